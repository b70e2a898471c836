// One header's value as a string: Node types a header as string | string[] | undefined.

/** The header's (first) value, or '' when absent. */
export function headerString(v: string | string[] | undefined): string {
  return (Array.isArray(v) ? v[0] : v) ?? '';
}
