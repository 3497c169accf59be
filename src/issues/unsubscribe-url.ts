/**
 * A recipient's one-click unsubscribe URL: the configured
 * `newsletter.unsubscribe.url` with `{list}` and `{token}` filled in, each
 * percent-encoded so that a list id or a token with `+`, `/`, `&` or a space
 * stays one query value or one path segment. Every place that fills the URL
 * (the send, the service's mail, the preview, the mailbox reading a
 * List-Unsubscribe header back) calls this. Without a token, `{token}` is
 * left in, for a page that shows the URL as configured.
 */
export function unsubscribeLink(template: string, list: string, token?: string): string {
  const withList = template.replaceAll("{list}", encodeURIComponent(list));
  return token === undefined ? withList : withList.replaceAll("{token}", encodeURIComponent(token));
}
