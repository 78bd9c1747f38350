/**
 * The checkout page's Content-Security-Policy: no inline script or style, nothing from other
 * origins, and embedding only by the merchant origins the operator lists
 * (`checkout.frameAncestors`; none: nobody may frame the page, against clickjacking).
 */
const BASE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'";

export function contentSecurityPolicy(frameAncestors: readonly string[] = []): string {
  const ancestors = frameAncestors.length === 0 ? "'none'" : frameAncestors.join(' ');
  return `${BASE_POLICY}; frame-ancestors ${ancestors}`;
}
