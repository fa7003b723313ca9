// LND's JavaScript WebSocket sample for routerrpc.Router/TrackPaymentV2, unchanged but for
// REST_HOST, MACAROON_PATH, {payment_hash} and requestBody (argv); `body.toString()` where the
// sample logs `body` (Debian's node-ws 8 hands a text message over as a Buffer); and one line that
// prints the close code so the test can see how the stream ended.
const [REST_HOST_ARG, MACAROON_PATH_ARG, PAYMENT_HASH] = process.argv.slice(2);
const WebSocket = require('ws');
const fs = require('fs');
const REST_HOST = REST_HOST_ARG
const MACAROON_PATH = MACAROON_PATH_ARG
let ws = new WebSocket(`wss://${REST_HOST}/v2/router/track/${PAYMENT_HASH}?method=GET`, {
  // Work-around for self-signed certificates.
  rejectUnauthorized: false,
  headers: {
    'Grpc-Metadata-Macaroon': fs.readFileSync(MACAROON_PATH).toString('hex'),
  },
});
let requestBody = {
  payment_hash: PAYMENT_HASH,
  no_inflight_updates: false,
};
ws.on('open', function() {
    ws.send(JSON.stringify(requestBody));
});
ws.on('error', function(err) {
    console.log('Error: ' + err);
});
ws.on('message', function(body) {
    console.log(body.toString());
});
ws.on('close', function(code) { console.log('CLOSE ' + code); });
