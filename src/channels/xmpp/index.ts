export { XmppChannel, xmppAlertText, type XmppChannelOptions } from './xmpp-channel.js';
export { XmppLink, XmppSetupError, type LinkStatus } from './xmpp-link.js';
