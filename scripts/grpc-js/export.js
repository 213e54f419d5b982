// Reads a whole ExportAuditRecords stream with grpc-js and its default
// options (4 MiB largest message received), as a Node.js client of the
// service would, and prints how many records and chunks arrived and the
// largest chunk. Exits non-zero on any error.
//
//   node scripts/grpc-js/export.js ADDRESS
const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const address = process.argv[2] || "127.0.0.1:50051";
const protoRoot = path.join(__dirname, "..", "..", "proto");
const definition = protoLoader.loadSync("claimscrub/v1/audit_service.proto", {
  includeDirs: [protoRoot],
  longs: String,
  enums: String,
  defaults: false,
});
const v1 = grpc.loadPackageDefinition(definition).claimscrub.v1;
const client = new v1.AuditService(address, grpc.credentials.createInsecure());

let records = 0;
let chunks = 0;
let largest = 0;
const call = client.ExportAuditRecords({ filter: {} });
call.on("data", (chunk) => {
  chunks += 1;
  records += chunk.auditRecords.length;
  const size = Buffer.byteLength(JSON.stringify(chunk));
  largest = Math.max(largest, size);
});
call.on("error", (error) => {
  console.error(`export failed: ${error.code} ${error.details}`);
  process.exit(1);
});
call.on("end", () => {
  console.log(`grpc-js export: ${records} records in ${chunks} chunks (largest chunk ${largest} bytes as JSON)`);
  process.exit(records > 0 ? 0 : 1);
});
