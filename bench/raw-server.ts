// The floor: a raw Node https server answering every request with the same bytes, with the same TLS
// setup as our servers (client certificates requested). Run as its own process by the benchmark.

import https from 'node:https';
import { readFileSync } from 'node:fs';

const [certFile, keyFile, caFile, bodyFile] = process.argv.slice(2);
const body = readFileSync(bodyFile);
const server = https.createServer(
  { cert: readFileSync(certFile), key: readFileSync(keyFile), ca: readFileSync(caFile), requestCert: true, rejectUnauthorized: false, keepAliveTimeout: 120_000 },
  (req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(body);
  },
);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
