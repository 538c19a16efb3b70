#!/usr/bin/env node
// Validates an AsyncAPI document with @asyncapi/parser (the reference parser: AsyncAPI 3.0 structure, $refs,
// and every payload schema as JSON Schema draft-07). Exit code 0 when valid; the diagnostics otherwise.
// Usage: node tools/js/validate-asyncapi.cjs DIR/asyncapi.json   (NODE_PATH: see scripts/common.sh)
'use strict';
const fs = require('fs');
const path = require('path');
const { Parser, fromFile } = require('@asyncapi/parser');

async function main() {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: validate-asyncapi.cjs ASYNCAPI.json');
    process.exit(2);
  }
  const parser = new Parser();
  const { document, diagnostics } = await fromFile(parser, path.resolve(file)).parse();
  // Severity 0 is an error; 1 a warning, 2 information, 3 a hint.
  const errors = diagnostics.filter((d) => d.severity === 0);
  for (const d of diagnostics.filter((d) => d.severity <= 1)) {
    console.error(`${d.severity === 0 ? 'error' : 'warning'} ${d.code} at ${d.path.join('.')}: ${d.message}`);
  }
  if (!document || errors.length > 0) {
    console.error(`${file}: INVALID (${errors.length} errors)`);
    process.exit(1);
  }
  const channels = document.channels().length;
  const messages = document.components().messages().length;
  const operations = document.operations().length;
  console.log(`${file}: valid AsyncAPI ${document.version()}: ${channels} channels, ${operations} operations, ${messages} messages`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
