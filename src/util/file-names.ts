/** Make a container name or other label safe to use in a file name. */
export function safeFileName(s: string): string {
  const cleaned = s
    .replace(/^\/+/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^\.+/, '_')
  return cleaned.slice(0, 80) || 'unnamed'
}
