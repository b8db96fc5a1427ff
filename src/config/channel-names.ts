/** The channels the configuration knows. Adding a channel adds its name here, its folder under src/channels and its factory. */
export const CHANNEL_NAMES = ['voip', 'gsm', 'sms', 'mail', 'sipmsg', 'xmpp', 'console'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];
