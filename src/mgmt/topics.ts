// The topic tree under <prefix>/<nodeId>/ (prefix `bitmesh` by default, node id bm1…).
export const TOPIC_KINDS = ['status', 'metrics', 'events', 'cmd', 'cmd/result'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

/** The payload of status while the node is not connected (last will, clean stop). */
export const OFFLINE_PAYLOAD = 'offline';

export function topicFor(prefix: string, node: string, kind: TopicKind): string {
  return `${prefix}/${node}/${kind}`;
}

/** `<prefix>/<node>/<kind>` → its parts, or undefined for any other topic. */
export function parseTopic(prefix: string, topic: string): { node: string; kind: TopicKind } | undefined {
  if (!topic.startsWith(prefix + '/')) return undefined;
  const rest = topic.slice(prefix.length + 1);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const node = rest.slice(0, slash);
  const kind = rest.slice(slash + 1);
  return (TOPIC_KINDS as readonly string[]).includes(kind) ? { node, kind: kind as TopicKind } : undefined;
}

/** A topic prefix is one or more plain levels: no wildcards, no empty levels. */
export function isValidPrefix(prefix: string): boolean {
  return /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(prefix);
}
