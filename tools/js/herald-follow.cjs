#!/usr/bin/env node
// A herald_v1_follow consumer with @polkadot/api's WsProvider: follows a Herald node's envelopes over JSON-RPC
// and keeps the set of envelopes that are still on the chain, applying `BlockRetracted` (best mode) as it goes.
//
//   node tools/js/herald-follow.cjs ws://127.0.0.1:9944 [finalized|best] [UNTIL_FINALIZED_BLOCK]
//
// Prints one JSON line per notification ({"kind":"notification","result":…}); with UNTIL_FINALIZED_BLOCK it
// stops at that block's BlockFinalized and prints {"kind":"live","ids":[…]}: the ids a consumer holds then.
// (NODE_PATH must reach the installed packages: scripts/common.sh exports it.)
'use strict';
const { WsProvider } = require('@polkadot/api');

async function main() {
  const [url = 'ws://127.0.0.1:9944', mode = 'finalized', until] = process.argv.slice(2);
  const provider = new WsProvider(url, false);
  await provider.connect();
  await provider.isReady;
  const live = new Map(); // meta.id -> envelope
  const untilBlock = until === undefined ? undefined : Number(until);
  let subscription;
  await new Promise((resolve, reject) => {
    provider
      .subscribe('herald_v1_followEvent', 'herald_v1_follow', [{ mode }], (error, result) => {
        if (error) return reject(error);
        console.log(JSON.stringify({ kind: 'notification', result }));
        if (result.event === 'stop') return reject(new Error(`stopped: ${result.message}`));
        if (result.event !== 'envelope') return;
        const envelope = result.envelope;
        if (envelope.name === 'BlockRetracted') {
          // The block left the best chain: forget everything it carried.
          for (const id of envelope.data.event_ids) live.delete(id);
        } else {
          live.set(envelope.meta.id, envelope);
        }
        if (untilBlock !== undefined && envelope.name === 'BlockFinalized' && envelope.meta.block.number >= untilBlock) {
          resolve();
        }
      })
      .then((id) => {
        subscription = id;
        console.log(JSON.stringify({ kind: 'subscribed', id }));
      }, reject);
  });
  await provider.unsubscribe('herald_v1_followEvent', 'herald_v1_unfollow', subscription);
  console.log(JSON.stringify({ kind: 'live', ids: [...live.keys()].sort() }));
  await provider.disconnect();
}

main().catch((error) => {
  console.error(error.message || error);
  process.exit(1);
});
