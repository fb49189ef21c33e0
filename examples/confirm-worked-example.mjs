// The worked example of Confirm's reseller guide (seed 000), unchanged but
// for the base URL and the credentials, which come from the environment
// (`go run ./cmd/verigate demo --json` prints them). Run with Node 18+:
//
//   BASE=http://127.0.0.1:8080 ACCESS_TOKEN=vgat_… SVC_EMAIL=svc@demo-reseller.test SVC_PASSWORD=… \
//     node examples/confirm-worked-example.mjs
const ACCESS_TOKEN = process.env.ACCESS_TOKEN;
const SVC_EMAIL = process.env.SVC_EMAIL;
const SVC_PASSWORD = process.env.SVC_PASSWORD;

const base = process.env.BASE;
// 1. Service-account login
const login = await fetch(`${base}/external/token/request`, {
method: "POST",
headers: { "accessToken": ACCESS_TOKEN, "Content-Type": "application/json" },
body: JSON.stringify({ email: SVC_EMAIL, password: SVC_PASSWORD }),
}).then(r => r.json());
// 2. Work the queue for one institution
const queue = await fetch(`${base}/external/calls/queue`, {
headers: {
"SsoToken": login.token,
"InstitutionKey": "acme-cu",
"RequestedBy": "jdoe",
},
}).then(r => r.json());
console.log(queue.phoneCalls);
