# LND's Python REST sample for routerrpc.Router/TrackPaymentV2, unchanged but for REST_HOST,
# MACAROON_PATH, TLS_PATH and payment_hash (given on the command line by the test).
import sys
payment_hash = sys.argv[4]

import base64, codecs, json, requests
REST_HOST = sys.argv[1]
MACAROON_PATH = sys.argv[2]
TLS_PATH = sys.argv[3]
url = f'https://{REST_HOST}/v2/router/track/{payment_hash}'
macaroon = codecs.encode(open(MACAROON_PATH, 'rb').read(), 'hex')
headers = {'Grpc-Metadata-macaroon': macaroon}
r = requests.get(url, headers=headers, stream=True, verify=TLS_PATH)
for raw_response in r.iter_lines():
    json_response = json.loads(raw_response)
    print(json_response)
