#!/usr/bin/env node
// Herald's demo workload: makes a development chain produce the domain events Herald ships to Kafka.
//
//   node tools/js/demo-workload.cjs [ws://127.0.0.1:9944] [--loop] [--metrics URL|off]
//
// With the dev accounts (Alice, Bob, Charlie, Dave) it runs one round of:
//   - three balance transfers;
//   - a DAO created by Alice, with Bob and Charlie added as members (pallets/dao);
//   - a contract agreement proposed by Bob (proposing is his signature) and signed by Charlie: in force
//     (pallets/agreements);
//   - a crowdfunding Alice creates on behalf of the DAO, opened by a block's on_initialize, contributed to by
//     Bob and Dave, and finished (paid out, settled) by a later block's on_initialize, with no transaction
//     (pallets/crowdfunding).
// Every step waits for its extrinsic's inclusion (or for the block it depends on), never for a fixed time, and
// prints one line: what happened, in which block, and which envelopes Herald ships for it on which topic
// (from node/event-mappings.toml). A round takes about 6 blocks (40 s on 6 s blocks); it ends once its blocks
// are final and, when the node's metrics answer, shipped to Kafka. `--loop` runs rounds until interrupted
// (ids are allocated by the chain, so each round has fresh ones). Exit status: 0 when done, 1 when the node
// can't be reached or a step fails (the reason is printed, with the runtime's error decoded), 2 for bad usage.
//
// Needs @polkadot/api (scripts/setup.sh installs it into $HERALD_JS; scripts/common.sh sets NODE_PATH).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const USAGE = 'usage: node tools/js/demo-workload.cjs [ws://HOST:PORT] [--loop] [--metrics URL|off]';
const INCLUSION_TIMEOUT_S = 60; // an extrinsic not in a block by then: the node is not producing blocks
const STALL_NUDGE_S = 12; // no new block for this long while waiting for one: submit a remark (instant sealing)
const STALL_TIMEOUT_S = 60; // no new block for this long: give up
const SHIPPED_TIMEOUT_S = 60; // how long the end of a round waits for finality and Kafka's acknowledgement

class DemoError extends Error {}

function fail(message, status = 1) {
	process.stderr.write(`error: ${message}\n`);
	process.exit(status);
}

// ---- arguments ----

const options = { url: 'ws://127.0.0.1:9944', loop: false, metrics: undefined };
{
	const args = process.argv.slice(2);
	for (let i = 0; i < args.length; i++) {
		const arg = args[i];
		if (arg === '--loop') options.loop = true;
		else if (arg === '--metrics') options.metrics = args[++i];
		else if (arg.startsWith('--metrics=')) options.metrics = arg.slice('--metrics='.length);
		else if (arg === '-h' || arg === '--help') {
			process.stdout.write(`${USAGE}\n`);
			process.exit(0);
		} else if (/^wss?:\/\//.test(arg)) options.url = arg;
		else fail(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`, 2);
	}
	if (options.metrics === undefined) {
		// The node's Prometheus endpoint, on the RPC's host at the default port.
		options.metrics = `http://${new URL(options.url).hostname}:9615/metrics`;
	} else if (!options.metrics) {
		fail(`--metrics needs a URL or "off"\n${USAGE}`, 2);
	}
}

let polkadot, utilCrypto;
try {
	polkadot = require('@polkadot/api');
	utilCrypto = require('@polkadot/util-crypto');
} catch (e) {
	fail(
		`cannot load @polkadot/api (${String(e.message).split('\n')[0]}): run ./scripts/setup.sh, which installs it into ` +
			`${process.env.HERALD_JS || '/var/tmp/herald-js'}, and run this script with ` +
			'NODE_PATH=$HERALD_JS/node_modules (scripts/common.sh sets both)',
	);
}
const { ApiPromise, WsProvider, Keyring } = polkadot;
// polkadot.js logs every refused RPC call itself; a refused extrinsic is reported below, once, with its step.
const consoleError = console.error;
console.error = (...args) => {
	if (!args.some((a) => typeof a === 'string' && a.includes('submitAndWatchExtrinsic'))) consoleError(...args);
};

// ---- the mapping table: which envelope name and topic each runtime event ships as ----

const TOPIC_PREFIX = 'herald';

/** `Pallet.Variant` → {name, topic}, read from the node's embedded table (node/event-mappings.toml). */
function loadMappings() {
	const file = path.join(__dirname, '..', '..', 'node', 'event-mappings.toml');
	const mappings = new Map();
	const defaults = { topic: 'events' };
	let text;
	try {
		text = fs.readFileSync(file, 'utf8');
	} catch {
		return { mappings, defaults }; // shown with the table's defaults
	}
	let current = null;
	for (const raw of text.split('\n')) {
		const line = raw.replace(/#.*$/, '').trim();
		if (!line) continue;
		const section = line.match(/^\[events\."([^"]+)"\]$/);
		if (section) {
			current = {};
			mappings.set(section[1], current);
		} else if (line.startsWith('[')) {
			current = line === '[defaults]' ? defaults : null;
		} else {
			const kv = line.match(/^(\w+)\s*=\s*"([^"]*)"$/);
			if (kv && current) current[kv[1]] = kv[2];
		}
	}
	return { mappings, defaults };
}
const { mappings, defaults } = loadMappings();

// ---- connecting ----

async function connect(url) {
	// No automatic reconnection: an unreachable node is reported once, clearly, instead of retried forever.
	const provider = new WsProvider(url, false);
	await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error('no answer within 10 s')), 10_000);
		const done = (error) => {
			clearTimeout(timer);
			offConnected();
			offError();
			error ? reject(error) : resolve();
		};
		const offConnected = provider.on('connected', () => done());
		const offError = provider.on('error', (e) => done(new Error(e?.message || e?.error?.message || String(e))));
		provider.connect().catch(done);
	}).catch((e) => {
		provider.disconnect().catch(() => {});
		fail(
			`cannot reach a node at ${url} (${e.message}). Start one (./scripts/dev.sh starts herald-node --dev) ` +
				`or pass its RPC address: node tools/js/demo-workload.cjs ws://HOST:PORT`,
		);
	});
	let api;
	try {
		api = await ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true });
	} catch (e) {
		fail(`connected to ${url}, but could not load its metadata: ${e.message}`);
	}
	provider.on('disconnected', () => {
		if (!shuttingDown) fail(`lost the connection to the node at ${url} (did it stop?)`);
	});
	for (const pallet of ['balances', 'dao', 'agreements', 'crowdfunding']) {
		if (!api.tx[pallet]) fail(`the chain at ${url} has no ${pallet} pallet: is it a herald-node?`);
	}
	return api;
}
let shuttingDown = false;

// ---- the demo ----

async function main() {
	await utilCrypto.cryptoWaitReady();
	const api = await connect(options.url);
	const keyring = new Keyring({ type: 'sr25519', ss58Format: api.registry.chainSS58 ?? 42 });
	const accounts = {};
	const names = new Map();
	for (const name of ['Alice', 'Bob', 'Charlie', 'Dave']) {
		accounts[name] = keyring.addFromUri(`//${name}`);
		names.set(accounts[name].address, name);
	}
	const who = (account) => names.get(account.toString()) ?? account.toString();
	const palletNames = new Map(api.runtimeMetadata.asLatest.pallets.map((p) => [p.index.toNumber(), p.name.toString()]));
	const decimals = api.registry.chainDecimals[0] ?? 12;
	const symbol = api.registry.chainTokens[0] ?? 'UNIT';
	const unit = 10n ** BigInt(decimals);
	const amount = (n) => BigInt(n) * unit;
	const show = (value) => {
		const v = BigInt(value.toString());
		const whole = v / unit;
		const frac = (v % unit).toString().padStart(decimals, '0').replace(/0+$/, '');
		return `${whole}${frac ? `.${frac}` : ''} ${symbol}`;
	};

	// Events: their `Pallet.Variant`, a field by its name in the metadata, and how Herald ships them.
	const key = (event) => `${palletNames.get(event.index[0]) ?? event.section}.${event.method}`;
	const field = (event, name) => event.data[event.meta.fields.findIndex((f) => f.name.unwrapOr('').toString() === name)];
	const find = (events, wanted) => events.find((e) => key(e) === wanted);
	const shipped = (events) => {
		const groups = new Map(); // topic → [name, count] in order of appearance
		for (const event of events) {
			const mapping = mappings.get(key(event)) ?? {};
			const name = mapping.name ?? key(event).replace('.', '');
			const topic = `${TOPIC_PREFIX}.${mapping.topic ?? defaults.topic}`;
			if (!groups.has(topic)) groups.set(topic, new Map());
			const counts = groups.get(topic);
			counts.set(name, (counts.get(name) ?? 0) + 1);
		}
		const parts = [...groups].map(
			([topic, counts]) => `${[...counts].map(([n, c]) => (c > 1 ? `${n} ×${c}` : n)).join(', ')} on ${topic}`,
		);
		return parts.length ? ` → ${parts.join('; ')}` : '';
	};
	const ofPallet = (pallet, ...variants) => (events) =>
		events.filter((e) => key(e).startsWith(`${pallet}.`) && (!variants.length || variants.includes(e.method)));

	const explain = (dispatchError) => {
		if (dispatchError.isModule) {
			try {
				const { section, name, docs } = api.registry.findMetaError(dispatchError.asModule);
				return `${section}.${name}${docs.length ? ` (${docs.join(' ').trim()})` : ''}`;
			} catch {
				// fall through to the raw error
			}
		}
		return dispatchError.toString();
	};

	// Nonces handed out locally, so one account can have several extrinsics in the same block.
	const nonces = new Map();
	const takeNonce = (address) => {
		const previous = nonces.get(address) ?? api.rpc.system.accountNextIndex(address).then((n) => n.toNumber() - 1);
		const mine = previous.then((n) => n + 1);
		nonces.set(address, mine);
		return mine;
	};

	// The best block, followed: waiting for a block number; a stalled chain is nudged, then given up on.
	let best = (await api.rpc.chain.getHeader()).number.toNumber();
	let lastHeadAt = Date.now();
	const waiters = [];
	const unsubHeads = await api.rpc.chain.subscribeNewHeads((header) => {
		best = Math.max(best, header.number.toNumber());
		lastHeadAt = Date.now();
		for (const waiter of waiters.splice(0)) {
			if (best >= waiter.number) waiter.resolve();
			else waiters.push(waiter);
		}
	});
	let nudging = false;
	const stallTimer = setInterval(() => {
		if (!waiters.length) return;
		const idle = (Date.now() - lastHeadAt) / 1000;
		if (idle > STALL_TIMEOUT_S) {
			for (const waiter of waiters.splice(0)) {
				waiter.reject(
					new DemoError(
						`no new block for ${STALL_TIMEOUT_S} s while waiting for block #${waiter.number} (best #${best}): ` +
							'is the node producing blocks? (with --sealing manual, blocks come only from engine_createBlock)',
					),
				);
			}
		} else if (idle > STALL_NUDGE_S && !nudging) {
			// With --sealing instant, blocks come only with transactions: a remark makes the next one.
			nudging = true;
			submit('a remark to make a block', accounts.Dave, api.tx.system.remark('herald demo: next block'))
				.catch(() => {})
				.finally(() => {
					nudging = false;
				});
		}
	}, 1000);
	const waitForBlock = (number) =>
		best >= number ? Promise.resolve() : new Promise((resolve, reject) => waiters.push({ number, resolve, reject }));
	/** The events a block's hooks deposited (phase Initialization), once that block is the best chain's. */
	const hookEvents = async (number) => {
		await waitForBlock(number);
		const hash = await api.rpc.chain.getBlockHash(number);
		const records = await (await api.at(hash)).query.system.events();
		return records.filter((r) => r.phase.isInitialization).map((r) => r.event);
	};

	/** Sign and submit `tx` as `signer`; resolves with its block number and events once it is in a block. */
	function submit(label, signer, tx) {
		return takeNonce(signer.address).then(
			(nonce) =>
				new Promise((resolve, reject) => {
					let unsub = null;
					let settled = false;
					const finish = (error, value) => {
						if (settled) return;
						settled = true;
						clearTimeout(timer);
						if (unsub) unsub();
						if (error) {
							nonces.delete(signer.address);
							reject(error);
						} else resolve(value);
					};
					const timer = setTimeout(
						() =>
							finish(
								new DemoError(
									`${label}: not in a block after ${INCLUSION_TIMEOUT_S} s: is the node producing blocks? ` +
										'(with --sealing manual, blocks come only from engine_createBlock)',
								),
							),
						INCLUSION_TIMEOUT_S * 1000,
					);
					tx.signAndSend(signer, { nonce }, (result) => {
						const { status } = result;
						if (status.isInBlock || status.isFinalized) {
							const number = result.blockNumber?.toNumber();
							if (result.internalError) {
								finish(new DemoError(`${label}: in a block, but its events could not be read: ${result.internalError.message}`));
							} else if (result.dispatchError) {
								finish(new DemoError(`${label} failed in block #${number}: ${explain(result.dispatchError)}`));
							} else {
								best = Math.max(best, number);
								finish(null, { number, events: result.events.map((r) => r.event) });
							}
						} else if (status.isInvalid || status.isDropped || status.isUsurped || status.isFinalityTimeout) {
							finish(new DemoError(`${label}: the node's transaction pool reports it ${status.type}`));
						}
					}).then(
						(u) => {
							unsub = u;
							if (settled) u();
						},
						(e) => finish(new DemoError(`${label}: the node refused the transaction: ${e.message}`)),
					);
				}),
		);
	}

	const say = (line) => process.stdout.write(`${line}\n`);
	const { Alice, Bob, Charlie, Dave } = accounts;
	const chain = await api.rpc.system.chain();
	const version = api.runtimeVersion;
	say(
		`connected to ${options.url}: ${chain}, runtime ${version.specName} v${version.specVersion}, best block #${best}; ` +
			`${options.loop ? 'rounds until interrupted' : 'one round'}: transfers, a DAO, an agreement, a crowdfunding`,
	);

	async function round(n) {
		const started = Date.now();
		const tag = options.loop ? `round ${n}: ` : '';
		let first = Infinity;
		let last = 0;
		const seen = (number) => {
			first = Math.min(first, number);
			last = Math.max(last, number);
			return number;
		};

		const transfers = Promise.all(
			[
				[Alice, Bob, 25],
				[Bob, Charlie, 10],
				[Charlie, Dave, 5],
			].map(async ([from, to, value]) => {
				const label = `${tag}transfer ${value} ${symbol} ${who(from.address)} → ${who(to.address)}`;
				const r = await submit(label, from, api.tx.balances.transferKeepAlive(to.address, amount(value)));
				say(`${tag}${who(from.address)} sent ${value} ${symbol} to ${who(to.address)} in block #${seen(r.number)}${shipped(ofPallet('Balances', 'Transfer', 'Endowed')(r.events))}`);
			}),
		);

		const agreement = (async () => {
			const parties = [Bob.address, Charlie.address];
			const terms = utilCrypto.blake2AsHex(`Herald demo agreement, round ${n}, ${new Date().toISOString()}`);
			const expiry = best + 100; // open for 100 blocks (10 minutes); Charlie signs in the next block
			const proposed = await submit(`${tag}Bob proposes an agreement`, Bob, api.tx.agreements.propose(parties, terms, expiry));
			const id = field(find(proposed.events, 'Agreements.ContractAgreementProposed'), 'agreement_id').toNumber();
			say(`${tag}agreement #${id} between Bob and Charlie proposed (and so signed) by Bob in block #${seen(proposed.number)}${shipped(ofPallet('Agreements')(proposed.events))}`);
			const signed = await submit(`${tag}Charlie signs agreement #${id}`, Charlie, api.tx.agreements.sign(id));
			const inForce = find(signed.events, 'Agreements.ContractAgreementSigned') ? ': both signed, in force' : '';
			say(`${tag}agreement #${id} signed by Charlie in block #${seen(signed.number)}${inForce}${shipped(ofPallet('Agreements')(signed.events))}`);
		})();

		const daoAndCrowdfunding = (async () => {
			const created = await submit(`${tag}Alice creates a DAO`, Alice, api.tx.dao.createDao(`Herald demo DAO, round ${n}`));
			const daoId = field(find(created.events, 'Dao.DaoCreated'), 'dao_id').toNumber();
			say(`${tag}DAO #${daoId} created by Alice in block #${seen(created.number)}${shipped(ofPallet('Dao')(created.events))}`);

			const members = Promise.all(
				[Bob, Charlie].map(async (member) => {
					const name = who(member.address);
					const r = await submit(`${tag}Alice adds ${name} to DAO #${daoId}`, Alice, api.tx.dao.addMember(daoId, member.address));
					say(`${tag}${name} joined DAO #${daoId} in block #${seen(r.number)}${shipped(ofPallet('Dao')(r.events))}`);
				}),
			);

			// The shortest window that works on 6 s blocks: the extrinsic lands in the next block (best + 1), the
			// crowdfunding opens in the one after (`start`, by on_initialize; the pallet wants start > now), the
			// contributions, sent once it opened, land in start + 1 (or start + 2 if they miss a block), and
			// on_initialize of `end` = start + 3 finishes it: about 30 s after creation.
			let crowdfunding;
			for (let attempt = 1; ; attempt++) {
				const start = best + 2;
				const end = start + 3;
				const tx = api.tx.crowdfunding.create(daoId, 'Native', Alice.address, amount(100), amount(500), start, end);
				try {
					crowdfunding = { start, end, r: await submit(`${tag}Alice creates a crowdfunding for DAO #${daoId}`, Alice, tx) };
					break;
				} catch (e) {
					// Landed later than the next block (a slow pool, instant sealing): try again from the new best.
					if (attempt < 3 && /StartInPast/.test(e.message)) {
						say(`${tag}(the crowdfunding's creation landed after its start block #${start}; creating it again)`);
						continue;
					}
					throw e;
				}
			}
			const { start, end, r: created2 } = crowdfunding;
			const cfId = field(find(created2.events, 'Crowdfunding.CrowdfundingCreated'), 'crowdfunding_id').toNumber();
			say(
				`${tag}crowdfunding #${cfId} created by Alice for DAO #${daoId} in block #${seen(created2.number)}: soft cap 100 ${symbol}, ` +
					`open in blocks #${start}–#${end - 1}, ends by itself in #${end}${shipped(ofPallet('Crowdfunding')(created2.events))}`,
			);

			const ofThis = (events) => ofPallet('Crowdfunding')(events).filter((e) => field(e, 'crowdfunding_id').toNumber() === cfId);
			const opened = ofThis(await hookEvents(start));
			if (!opened.some((e) => e.method === 'CrowdfundingActivated')) {
				throw new DemoError(`${tag}crowdfunding #${cfId} was not activated in block #${start}`);
			}
			say(`${tag}crowdfunding #${cfId} opened by block #${seen(start)}'s on_initialize (no transaction)${shipped(opened)}`);

			await Promise.all(
				[
					[Bob, 60],
					[Dave, 50],
				].map(async ([from, value]) => {
					const name = who(from.address);
					const r = await submit(`${tag}${name} contributes to crowdfunding #${cfId}`, from, api.tx.crowdfunding.contribute(cfId, amount(value)));
					const raised = field(find(r.events, 'Crowdfunding.Contributed'), 'raised');
					say(`${tag}${name} contributed ${value} ${symbol} to crowdfunding #${cfId} in block #${seen(r.number)} (raised ${show(raised)})${shipped(ofThis(r.events))}`);
				}),
			);

			const finished = ofThis(await hookEvents(end));
			const finish = finished.find((e) => e.method === 'CrowdfundingFinished');
			if (!finish) throw new DemoError(`${tag}crowdfunding #${cfId} did not finish in block #${end}`);
			const outcome = field(finish, 'outcome');
			const result = outcome.isSucceeded
				? `succeeded with ${show(outcome.asSucceeded.raised)}${finished.some((e) => e.method === 'CrowdfundingPaidOut') ? ', paid to Alice' : ''}`
				: `failed with ${show(outcome.asFailed.raised)}, contributors refunded`;
			say(`${tag}crowdfunding #${cfId} finished by block #${seen(end)}'s on_initialize (no transaction): ${result}${shipped(finished)}`);
			await members;
		})();

		await Promise.all([transfers, agreement, daoAndCrowdfunding]);

		// Herald ships final blocks (by default): wait until the round's last block is final, then shipped.
		const deadline = Date.now() + SHIPPED_TIMEOUT_S * 1000;
		let finalized = 0;
		while (Date.now() < deadline) {
			finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
			if (finalized >= last) break;
			await new Promise((r) => setTimeout(r, 1000));
		}
		let kafka = '';
		if (finalized >= last && options.metrics !== 'off') {
			let shippedTo = null;
			while (Date.now() < deadline) {
				shippedTo = await lastShippedBlock();
				if (shippedTo === null || shippedTo >= last) break;
				await new Promise((r) => setTimeout(r, 500));
			}
			if (shippedTo !== null) {
				kafka = shippedTo >= last ? `, shipped to Kafka (herald_kafka_last_shipped_block_number ${shippedTo})` : `, not yet shipped to Kafka (herald_kafka_last_shipped_block_number ${shippedTo})`;
			}
		}
		const finality = finalized >= last ? 'final' : `not final yet (finalized #${finalized})`;
		say(`${tag}done in ${Math.round((Date.now() - started) / 1000)} s: blocks #${first}–#${last} ${finality}${kafka}`);
	}

	async function lastShippedBlock() {
		try {
			const response = await fetch(options.metrics, { signal: AbortSignal.timeout(2000) });
			const line = (await response.text()).split('\n').find((l) => l.startsWith('herald_kafka_last_shipped_block_number'));
			return line ? Number(line.trim().split(/\s+/).pop()) : null;
		} catch {
			return null; // no metrics endpoint there: say nothing about Kafka
		}
	}

	try {
		for (let n = 1; ; n++) {
			await round(n);
			if (!options.loop) break;
		}
	} finally {
		shuttingDown = true;
		clearInterval(stallTimer);
		unsubHeads();
		await api.disconnect().catch(() => {});
	}
}

main().then(
	() => process.exit(0),
	(e) => fail(e instanceof DemoError ? e.message : e.stack || String(e)),
);
