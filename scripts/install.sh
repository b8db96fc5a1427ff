#!/usr/bin/env bash
# Installs Alertline as a systemd service on Raspberry Pi OS / Debian (arm64, armhf, amd64).
#
#   sudo scripts/install.sh [--no-start] [--source DIR]
#   scripts/install.sh --print-config     # the config it would create, on stdout (no root needed)
#
# Idempotent: run it again to upgrade from the checkout. What it does:
#   1. Node.js >= 20 (Debian's nodejs/npm if missing or too old; says how to get 20 if the distro's is older)
#   2. builds the checkout in a staging copy (npm ci; npm run build; npm prune --omit=dev) and swaps it
#      into /opt/alertline (the unit's ExecStart: /usr/bin/env node /opt/alertline/bin/alertline.js run)
#   3. system user "alertline" in groups dialout (serial port) and audio (sound card)
#   4. /etc/alertline/alertline.yaml from config/alertline.example.yaml, ONCE (never overwritten):
#      dataDir /var/lib/alertline, audioCacheDir /var/lib/alertline/audio-cache, smtp.port 25;
#      root:alertline 0640 (it holds secrets)
#   5. /etc/systemd/system/alertline.service, /etc/udev/rules.d/99-alertline-modem.rules,
#      /usr/local/bin/alertline (the CLI, run as the alertline user when called by root)
#   6. systemctl daemon-reload && systemctl enable alertline && (re)start — skipped with a message
#      when systemd is not PID 1 (containers, chroots)
set -euo pipefail

PREFIX=${PREFIX:-/opt/alertline}
CONF_DIR=/etc/alertline
CONF_FILE=$CONF_DIR/alertline.yaml
STATE_DIR=/var/lib/alertline
UNIT_DEST=/etc/systemd/system/alertline.service
UDEV_DEST=/etc/udev/rules.d/99-alertline-modem.rules
CLI_DEST=/usr/local/bin/alertline
SVC_USER=alertline
NODE_MIN=20

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
START=1
PRINT_CONFIG=0

usage() {
  # The comment block at the top of this file.
  sed -n '2,/^set -euo pipefail/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --no-start) START=0 ;;
    --print-config) PRINT_CONFIG=1 ;;
    --source)
      [ $# -ge 2 ] || { echo "install.sh: --source needs a directory" >&2; exit 2; }
      SRC=$(cd "$2" && pwd)
      shift
      ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

# The example config with the appliance's paths and port; fails if the example changed shape.
appliance_config() {
  local out
  out=$(sed -e 's|^dataDir: \./data\( *\)|dataDir: /var/lib/alertline\1|' \
      -e 's|^audioCacheDir: \./audio-cache\( *\)|audioCacheDir: /var/lib/alertline/audio-cache\1|' \
      -e '0,/^  port: 2525/s|^  port: 2525 |  port: 25   |' \
      "$SRC/config/alertline.example.yaml") || return 1
  if ! grep -q '^dataDir: /var/lib/alertline ' <<<"$out" ||
    ! grep -q '^audioCacheDir: /var/lib/alertline/audio-cache ' <<<"$out" ||
    ! grep -q '^  port: 25 ' <<<"$out"; then
    echo "install.sh: config/alertline.example.yaml changed shape: could not set dataDir/audioCacheDir/smtp.port" >&2
    return 1
  fi
  printf '%s\n' "$out"
}

if [ "$PRINT_CONFIG" -eq 1 ]; then
  appliance_config
  exit $?
fi

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0)"
if [ ! -f "$SRC/package.json" ] || [ ! -f "$SRC/systemd/alertline.service" ]; then
  die "$SRC does not look like an Alertline checkout"
fi
command -v apt-get >/dev/null 2>&1 || die "this script is for Debian / Raspberry Pi OS (apt-get not found)"

arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
case "$arch" in
  arm64|aarch64|amd64|x86_64|armhf) ;;
  *) note "architecture $arch is untested (arm64, armhf and amd64 are)" ;;
esac

APT_UPDATED=0
apt_install() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

node_major() {
  if command -v node >/dev/null 2>&1; then
    node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
  else
    echo 0
  fi
}

# ------------------------------------------------------------------ 1. Node.js
say "Node.js >= $NODE_MIN"
if [ "$(node_major)" -lt "$NODE_MIN" ] || ! command -v npm >/dev/null 2>&1; then
  note "installing Debian's nodejs and npm"
  apt_install nodejs npm ca-certificates
fi
major=$(node_major)
if [ "$major" -lt "$NODE_MIN" ]; then
  die "Node.js $NODE_MIN or newer is needed; this distribution ships $major.
    Debian 13 (trixie) and later ship Node 20+. On Debian 12 / Raspberry Pi OS bookworm use NodeSource:
      curl -fsSL https://deb.nodesource.com/setup_20.x -o /tmp/nodesource_setup.sh
      less /tmp/nodesource_setup.sh   # read it, then:
      sudo bash /tmp/nodesource_setup.sh && sudo apt-get install -y nodejs
    and run this script again."
fi
note "node $(node --version), npm $(npm --version)"

# Runtime tools: aplay plays the spoken prompt into the GSM modem's microphone input.
if ! command -v aplay >/dev/null 2>&1; then
  say "alsa-utils (aplay, for calls through the GSM modem)"
  apt_install alsa-utils
fi

# ------------------------------------------------------------------ 2. build into a staging copy, then swap
say "building $SRC into $PREFIX"
STAGE="$PREFIX.new"
rm -rf "$STAGE"
mkdir -p "$STAGE"
# The source tree without build output, local data or VCS metadata.
tar -C "$SRC" \
  --exclude=./.git --exclude=./node_modules --exclude=./dist --exclude=./data \
  --exclude='./audio-cache/*' --exclude=./config/alertline.yaml --exclude=./test \
  -cf - . | tar -C "$STAGE" -xf -

npm_ci() { (cd "$STAGE" && npm ci --no-audit --no-fund --loglevel=error); }
if ! npm_ci; then
  # better-sqlite3 and serialport download prebuilt binaries; without one for this platform they compile.
  note "npm ci failed; installing a compiler toolchain for the native modules and retrying"
  apt_install build-essential python3
  npm_ci || die "npm ci failed in $STAGE (see the messages above)"
fi
(cd "$STAGE" && npm run build --silent) || die "the build failed in $STAGE"
(cd "$STAGE" && npm prune --omit=dev --no-audit --no-fund --loglevel=error) || die "npm prune failed in $STAGE"
[ -f "$STAGE/dist/src/cli/main.js" ] || die "the build produced no dist/src/cli/main.js"
chmod 0755 "$STAGE/bin/alertline.js"
chown -R root:root "$STAGE"
chmod -R u=rwX,go=rX "$STAGE"

if [ -d "$PREFIX" ]; then
  rm -rf "$PREFIX.old"
  mv "$PREFIX" "$PREFIX.old"
fi
mv "$STAGE" "$PREFIX"
rm -rf "$PREFIX.old"
note "installed $(node -p "require('$PREFIX/package.json').version") in $PREFIX"

# ------------------------------------------------------------------ 3. user
say "system user $SVC_USER"
if ! id -u "$SVC_USER" >/dev/null 2>&1; then
  useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin \
    --comment "Alertline alerting appliance" "$SVC_USER"
fi
for grp in dialout audio; do
  getent group "$grp" >/dev/null 2>&1 || groupadd --system "$grp"
  usermod -a -G "$grp" "$SVC_USER"
done
note "$(id "$SVC_USER")"

# ------------------------------------------------------------------ 4. directories and config
say "directories and $CONF_FILE"
install -d -m 0750 -o root -g "$SVC_USER" "$CONF_DIR"
install -d -m 0750 -o "$SVC_USER" -g "$SVC_USER" "$STATE_DIR" "$STATE_DIR/audio-cache"
if [ -e "$CONF_FILE" ]; then
  note "$CONF_FILE exists: left as it is"
  # Secrets live in it: make sure the service can read it and nobody else can.
  chgrp "$SVC_USER" "$CONF_FILE"
  chmod o-rwx "$CONF_FILE"
else
  tmpconf=$(mktemp)
  if ! appliance_config > "$tmpconf"; then
    rm -f "$tmpconf"
    die "could not prepare $CONF_FILE"
  fi
  install -m 0640 -o root -g "$SVC_USER" "$tmpconf" "$CONF_FILE"
  rm -f "$tmpconf"
  note "created $CONF_FILE (root:$SVC_USER 0640)"
fi

# ------------------------------------------------------------------ 5. unit, udev rule, CLI
say "systemd unit, udev rule, $CLI_DEST"
install -m 0644 -o root -g root "$SRC/systemd/alertline.service" "$UNIT_DEST"
install -m 0644 -o root -g root "$SRC/hardware/99-alertline-modem.rules" "$UDEV_DEST"
cat > "$CLI_DEST.tmp" <<EOF
#!/bin/sh
# Alertline CLI (installed by scripts/install.sh). Called by root it runs as the $SVC_USER user, so
# the database and cache files it touches stay owned by the service.
: "\${ALERTLINE_CONFIG:=$CONF_FILE}"
export ALERTLINE_CONFIG
if [ "\$(id -u)" -eq 0 ]; then
  exec runuser -u $SVC_USER -- /usr/bin/env ALERTLINE_CONFIG="\$ALERTLINE_CONFIG" node $PREFIX/bin/alertline.js "\$@"
fi
exec node $PREFIX/bin/alertline.js "\$@"
EOF
chmod 0755 "$CLI_DEST.tmp"
mv "$CLI_DEST.tmp" "$CLI_DEST"

# ------------------------------------------------------------------ 6. systemd
if [ -d /run/systemd/system ]; then
  if command -v udevadm >/dev/null 2>&1; then
    udevadm control --reload-rules || true
    udevadm trigger --subsystem-match=tty --action=add || true
  fi
  systemctl daemon-reload
  if [ "$START" -eq 1 ]; then
    say "enabling and (re)starting alertline"
    systemctl enable alertline >/dev/null
    systemctl restart alertline
    sleep 2
    systemctl --no-pager --lines=5 status alertline || true
  else
    systemctl enable alertline >/dev/null
    note "enabled; not started (--no-start): systemctl start alertline"
  fi
else
  say "systemd is not running as PID 1 here (container or chroot): the service was installed but not enabled or started"
  note "on the real machine: systemctl daemon-reload && systemctl enable --now alertline"
fi

cat <<EOF

Next steps
  1. Edit $CONF_FILE: smtp.host (0.0.0.0 to take mail from the network) and smtp.allowFrom (your
     monitoring servers), the channels you use (gsm port /dev/alertline-modem, voip, mail relay).
     Then: systemctl reload alertline
  2. Wire the SIM900 (hardware/README.md), then check everything:   sudo alertline doctor
  3. Add the people to call:   sudo alertline users add oncall@example.com --phone +34600123456
  4. Hear how calls will sound:   sudo alertline say "Disk full on db1" --out /tmp/test.wav
  5. Point your monitoring's e-mail at this host, port 25.   Logs: journalctl -u alertline -f
EOF
