// MAC addresses as every source reports them: six colon-separated hex octets, lowercase.

const MAC_RE = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;

/** Lowercase `aa:bb:cc:dd:ee:ff`, or null when `text` is not a MAC address. */
export function normaliseMac(text: string): string | null {
  const lower = text.toLowerCase();
  return MAC_RE.test(lower) ? lower : null;
}
