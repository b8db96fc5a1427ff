/** A tiny cookie-keeping HTTP client for the console's forms (no browser): the login form's token, CSRF from the page. */
export function client(base: string) {
  const jar = new Map<string, string>();
  const take = (r: Response) => {
    for (const c of r.headers.getSetCookie()) {
      const [kv] = c.split(';');
      const i = kv!.indexOf('=');
      const k = kv!.slice(0, i);
      const v = kv!.slice(i + 1);
      if (v) jar.set(k, v); else jar.delete(k);
    }
  };
  const headers = () => ({ cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') });
  return {
    jar,
    async get(path: string) {
      const r = await fetch(base + path, { headers: headers(), redirect: 'manual' });
      take(r);
      return { status: r.status, text: await r.text(), location: r.headers.get('location') };
    },
    async post(path: string, form: Record<string, string>, extra: Record<string, string> = {}) {
      const r = await fetch(base + path, { method: 'POST', headers: { ...headers(), 'content-type': 'application/x-www-form-urlencoded', ...extra }, body: new URLSearchParams(form).toString(), redirect: 'manual' });
      take(r);
      return { status: r.status, text: await r.text(), location: r.headers.get('location'), retryAfter: r.headers.get('retry-after') };
    },
    async login(login: string, password: string) {
      const page = await this.get('/login');
      const token = /name="_login" value="([^"]+)"/.exec(page.text)![1]!;
      return this.post('/login', { _login: token, login, password });
    },
    async csrf() {
      return /name="csrf-token" content="([^"]+)"/.exec((await this.get('/')).text)![1]!;
    },
  };
}

