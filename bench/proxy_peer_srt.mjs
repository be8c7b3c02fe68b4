// Starts the HTTP proxy of @anthropic-ai/sandbox-runtime (the peer in bench/README.md) on
// 127.0.0.1 with a filter that allows everything, and prints "PORT PID" on stdout.
// Usage: node bench/proxy_peer_srt.mjs <node_modules dir that holds @anthropic-ai/sandbox-runtime>
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const modules = process.argv[2] ?? 'node_modules';
const entry = path.resolve(modules, '@anthropic-ai/sandbox-runtime/dist/sandbox/http-proxy.js');
const { createHttpProxyServer } = await import(pathToFileURL(entry).href);
const server = createHttpProxyServer({ filter: () => true });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port} ${process.pid}\n`);
});
