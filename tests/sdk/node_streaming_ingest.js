// SDK compatibility check: the official Node.js Kusto SDK (azure-kusto-ingest / azure-kusto-data
// 7.x) streams files into kusto-local with StreamingIngestClient, as in the Kusto docs, and
// reads the rows back with Client. run_node_sdk_test.sh copies this file, as .mjs (the SDK is
// ESM only), next to the node_modules it installed, and runs:
//   node node_streaming_ingest.mjs <url> <db> <data dir> <token> [<app id> <app key> <tenant>]
// The first variant uses KustoConnectionStringBuilder.withAccessToken; the optional second one
// uses withTokenProvider with tokens from kusto-local's own token endpoint (see below).
import fs from "fs";
import path from "path";
import zlib from "zlib";
import { Client, KustoConnectionStringBuilder } from "azure-kusto-data";
import { DataFormat, IngestionProperties, StreamingIngestClient } from "azure-kusto-ingest";

const [url, db, dataDir, token, appId, appKey, tenant] = process.argv.slice(2);
if (!url || !db || !dataDir || !token) {
  console.error("usage: node node_streaming_ingest.mjs <url> <db> <dir> <token> [id key tenant]");
  process.exit(2);
}

let failures = 0;
function check(cond, what) {
  if (cond) {
    console.log(`ok: ${what}`);
  } else {
    failures++;
    console.error(`FAIL: ${what}`);
  }
}

async function rows(client, query) {
  const res = await client.execute(db, query);
  return [...res.primaryResults[0].rows()].map((r) => r.toJSON());
}

async function count(client, table) {
  const r = await rows(client, `${table} | count`);
  return Number(r[0].Count);
}

// The files the SDK ingests: CSV plain and .gz, JSON Lines plain and .gz (with a mapping).
function writeFiles(tag) {
  const csv = [];
  for (let i = 0; i < 5; i++) {
    csv.push(`${tag}-csv-${i},${i * 10},true`);
  }
  const csvGz = [];
  for (let i = 0; i < 7; i++) {
    csvGz.push(`${tag}-csvgz-${i},${1000 + i},false`);
  }
  const json = [];
  for (let i = 0; i < 3; i++) {
    json.push(JSON.stringify({ n: `${tag}-json-${i}`, v: { x: 500 + i }, f: i % 2 === 0 }));
  }
  const jsonGz = [];
  for (let i = 0; i < 4; i++) {
    jsonGz.push(JSON.stringify({ n: `${tag}-jsongz-${i}`, v: { x: 700 + i }, f: true }));
  }
  const files = {
    csv: path.join(dataDir, `${tag}.csv`),
    csvGz: path.join(dataDir, `${tag}.csv.gz`),
    json: path.join(dataDir, `${tag}.json`),
    jsonGz: path.join(dataDir, `${tag}.json.gz`),
  };
  fs.writeFileSync(files.csv, csv.join("\n") + "\n");
  fs.writeFileSync(files.csvGz, zlib.gzipSync(csvGz.join("\n") + "\n"));
  fs.writeFileSync(files.json, json.join("\n") + "\n");
  fs.writeFileSync(files.jsonGz, zlib.gzipSync(jsonGz.join("\n") + "\n"));
  return { files, expected: 5 + 7 + 3 + 4 };
}

async function runFlow(kcsb, table, tag) {
  console.log(`--- ${tag}: StreamingIngestClient -> ${url} ${db}.${table}`);
  const ingestClient = new StreamingIngestClient(kcsb);
  const queryClient = new Client(kcsb);
  const { files, expected } = writeFiles(tag);
  const csvProps = new IngestionProperties({ database: db, table, format: DataFormat.CSV });
  const jsonProps = new IngestionProperties({
    database: db,
    table,
    format: DataFormat.JSON,
    ingestionMappingReference: "sdk_json_mapping",
  });
  try {
    for (const [file, props, records] of [
      [files.csv, csvProps, 5],
      [files.csvGz, csvProps, 7],
      [files.json, jsonProps, 3],
      [files.jsonGz, jsonProps, 4],
    ]) {
      const res = await ingestClient.ingestFromFile(file, props);
      // The streaming client returns the raw v1 answer; its first cell is ConsumedRecordsCount.
      const consumed = res && res.Tables ? Number(res.Tables[0].Rows[0][0]) : NaN;
      check(consumed === records,
        `ingestFromFile(${path.basename(file)}) consumed ${records} records: ${consumed}`);
    }
    check((await count(queryClient, table)) === expected, `${table} | count == ${expected}`);
    const csvRows = await rows(queryClient, `${table} | where Name == "${tag}-csv-3" | take 5`);
    check(csvRows.length === 1 && Number(csvRows[0].Value) === 30 && csvRows[0].Flag === true,
      `csv row ${tag}-csv-3 has Value 30, Flag true: ${JSON.stringify(csvRows)}`);
    const gzRows = await rows(queryClient,
      `${table} | where Name == "${tag}-csvgz-6" | project Name, Value`);
    check(gzRows.length === 1 && Number(gzRows[0].Value) === 1006,
      `csv.gz row ${tag}-csvgz-6 has Value 1006: ${JSON.stringify(gzRows)}`);
    const jsonRows = await rows(queryClient, `${table} | where Name == "${tag}-json-1" | take 1`);
    check(jsonRows.length === 1 && Number(jsonRows[0].Value) === 501 && jsonRows[0].Flag === false,
      `json row ${tag}-json-1 has Value 501, Flag false: ${JSON.stringify(jsonRows)}`);
    const jsonGzRows = await rows(queryClient, `${table} | where Flag == true | count`);
    check(Number(jsonGzRows[0].Count) === 5 + 2 + 4,
      `rows with Flag == true: ${JSON.stringify(jsonGzRows)}`);
    const byName = await rows(queryClient, `${table} | take 3`);
    check(byName.length === 3, `take 3 returns 3 rows`);
  } finally {
    ingestClient.close();
    queryClient.close();
  }
}

try {
  await runFlow(KustoConnectionStringBuilder.withAccessToken(url, token), "SdkEvents",
    "token");
  if (appId) {
    // Second variant: a token provider callback that gets a fresh token from kusto-local's
    // Entra-style token endpoint (client credentials) whenever the SDK asks for one.
    // withAadApplicationKeyAuthentication itself cannot be used: its ClientSecretCredential
    // (@azure/identity) logs in at AZURE_AUTHORITY_HOST, which must be https, and kusto-local
    // serves plain http ("The authorityHost address must use the 'https' protocol.").
    let issued = 0;
    const provider = async () => {
      const form = new URLSearchParams({
        grant_type: "client_credentials",
        client_id: appId,
        client_secret: appKey,
        scope: `${url}/.default`,
      });
      const res = await fetch(`${url}/${tenant}/oauth2/v2.0/token`, { method: "POST", body: form });
      const body = await res.json();
      if (res.status !== 200 || !body.access_token) {
        throw new Error(`token endpoint: ${res.status} ${JSON.stringify(body)}`);
      }
      issued++;
      return body.access_token;
    };
    await runFlow(KustoConnectionStringBuilder.withTokenProvider(url, provider), "SdkEventsAad",
      "aad");
    check(issued > 0, `token provider was called (${issued} tokens)`);
  }
} catch (e) {
  failures++;
  console.error(`FAIL: exception: ${e && e.stack ? e.stack : e}`);
  if (e && e.response) {
    console.error(`response: ${e.response.status} ${JSON.stringify(e.response.data)}`);
  }
}
if (failures > 0) {
  console.error(`${failures} check(s) failed`);
  process.exit(1);
}
console.log("all SDK checks passed");
