// The image's HEALTHCHECK: healthy while the Local API answers GET /health with 200. The port is
// VIGIL_LISTEN's (the image sets 0.0.0.0:8080), asked on loopback. Node's fetch: the image has no curl.
const listen = process.env.VIGIL_LISTEN ?? '0.0.0.0:8080';
const port = listen.slice(listen.lastIndexOf(':') + 1);
const scheme = process.env.VIGIL_HEALTHCHECK_SCHEME ?? 'http';
try {
  const res = await fetch(`${scheme}://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch (e) {
  console.error(`GET /health: ${e.cause?.message ?? e.message}`);
  process.exit(1);
}
