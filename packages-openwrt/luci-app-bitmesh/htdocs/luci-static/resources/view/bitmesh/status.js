'use strict';
'require view';
'require rpc';
'require poll';
'require dom';

// Status > BitMesh: what the agent earns and spends, its price, the neighbours it hears,
// the gateway offers and its payment channels. Data: the rpcd plugin luci.bitmesh, which
// runs `bitmesh status|peers|channels --json`.

var callOverview = rpc.declare({
	object: 'luci.bitmesh',
	method: 'overview',
	expect: { }
});

// 1 msat/KiB = 1024 * 1024 / 1000 sat/GiB
var SAT_PER_GIB_PER_MSAT_PER_KIB = 1048.576;

function sats(msat) {
	var n = Number(msat) / 1000;
	return (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(3).replace(/\.?0+$/, '')) + ' sat';
}

function bytes(n) {
	if (n < 1024) return n + ' B';
	if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
	if (n < 1073741824) return (n / 1048576).toFixed(1) + ' MiB';
	return (n / 1073741824).toFixed(2) + ' GiB';
}

function ago(ms) {
	if (ms < 1000) return ms + ' ms';
	if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
	if (ms < 3600000) return Math.floor(ms / 60000) + ' min';
	return Math.floor(ms / 3600000) + ' h';
}

function rate(kbps) {
	var n = Number(kbps);
	if (n >= 1000000) return (n / 1000000).toFixed(2) + ' Gbit/s';
	if (n >= 1000) return (n / 1000).toFixed(1) + ' Mbit/s';
	return Math.round(n) + ' kbit/s';
}

function short(id) {
	return String(id).length > 20 ? String(id).slice(0, 14) + '…' + String(id).slice(-4) : String(id);
}

function sum(list, role) {
	return list.filter(function(c) { return c.role === role; })
		.reduce(function(a, c) { return a + Number(c.paidMsat || 0); }, 0);
}

function table(id, headers, rows, empty) {
	if (!rows.length)
		return E('p', { 'id': id, 'class': 'cbi-section-descr' }, [ empty ]);
	return E('table', { 'id': id, 'class': 'table' }, [
		E('tr', { 'class': 'tr table-titles' }, headers.map(function(h) { return E('th', { 'class': 'th' }, [ h ]); }))
	].concat(rows.map(function(r) {
		return E('tr', { 'class': 'tr' }, r.map(function(c) { return E('td', { 'class': 'td' }, [ String(c) ]); }));
	})));
}

function section(title, body) {
	return E('div', { 'class': 'cbi-section' }, [ E('h3', {}, [ title ]) ].concat(body));
}

function kv(rows) {
	return E('table', { 'class': 'table' }, rows.map(function(r) {
		return E('tr', { 'class': 'tr' }, [
			E('td', { 'class': 'td left', 'width': '33%' }, [ r[0] ]),
			E('td', { 'class': 'td left', 'data-name': r[2] || '' }, [ r[1] ])
		]);
	}));
}

function renderOverview(d) {
	var s = d && d.status;
	if (!s)
		return [ E('div', { 'class': 'alert-message warning', 'id': 'bitmesh-down' }, [
			(d && d.error) || _('The BitMesh agent is not running.') ]) ];

	var peers = Array.isArray(d.peers) ? d.peers : [];
	var channels = Array.isArray(d.channels) ? d.channels : [];
	var market = s.market || { priceMsatPerKiB: 0, selling: false };
	var price = Number(market.priceMsatPerKiB);
	var gateways = peers.filter(function(p) { return (p.roles || []).indexOf('gateway') >= 0; });
	var offers = Array.isArray(market.offers) ? market.offers : null;
	var cap = market.capability;
	var bidding = market.bidding;
	var award = market.auction && market.auction.award;
	var ours = award ? award.gateway : null;
	var extra = [];
	// A gateway: what it measured of its uplink and whom it is selling to now.
	if (cap)
		extra.push([ _('Uplink'), rate(cap.capacityKbps) + ' ' + _('measured') + ', ' + rate(cap.spareKbps) + ' ' + _('spare') +
			' (' + Math.round(cap.confidencePermille / 10) + '% ' + _('confidence') + ')', 'uplink' ]);
	if (bidding)
		extra.push([ _('Selling to'), bidding.awards.length + ' ' + _('clients'), 'selling' ]);
	// A client: the gateway it awarded, what it pays and what it gets.
	if (market.auction)
		extra.push([ _('Gateway'), award
			? short(award.gateway) + ', ' + award.priceMsatPerKiB + ' msat/KiB, ' + rate(award.recentKbps) + ' ' + _('now') +
				(award.measuredKbps != null ? ', ' + rate(award.measuredKbps) + ' ' + _('measured') : '')
			: _('none yet') + ' (' + market.auction.state + ')', 'gateway' ]);

	return [
		section(_('Node'), [ kv([
			[ _('Node id'), s.node.id ],
			[ _('Role'), s.node.role ],
			[ _('Version'), s.node.version + ', up ' + ago(s.node.uptimeS * 1000) ],
			[ _('Price'), price + ' msat/KiB (' + Math.round(price * SAT_PER_GIB_PER_MSAT_PER_KIB).toLocaleString('en-US') + ' sat/GiB)' +
				(market.selling ? '' : ', ' + _('selling paused')), 'price' ],
			[ _('Earned'), sats(sum(channels, 'payee')) + ' ' + _('from') + ' ' + channels.filter(function(c) { return c.role === 'payee'; }).length + ' ' + _('channels'), 'earned' ],
			[ _('Spent'), sats(sum(channels, 'payer')), 'spent' ]
		].concat(extra).concat([
			[ _('Crypto'), s.crypto.name + ' (' + s.crypto.reason + ')' ],
			[ _('Memory'), bytes(s.memory.rssBytes) + ' RSS' ]
		])) ]),
		section(_('Peers') + ' (' + peers.length + ')', [ table('bitmesh-peers',
			[ _('Node'), _('Address'), _('Roles'), _('Last seen'), _('Link') ],
			peers.map(function(p) {
				return [ short(p.id), p.address + ':' + p.port, (p.roles || []).join(', ') || '-', ago(p.lastSeenMsAgo) + ' ago',
					p.linkQuality ? Math.round(p.linkQuality.quality * 100) + '% ' + p.linkQuality.source : '-' ];
			}), _('No neighbours heard.')) ]),
		section(_('Offers'), [ offers
			? table('bitmesh-offers', [ _('Gateway'), _('Price'), _('Capacity'), _('Spare'), _('Confidence'), _('Heard') ],
				offers.map(function(o) {
					return [ short(o.gateway) + (o.gateway === ours ? ' (' + _('ours') + ')' : ''), o.priceMsatPerKiB + ' msat/KiB',
						rate(o.capacityKbps), rate(o.spareKbps), Math.round(o.confidencePermille / 10) + '%', ago(o.ageMs) + ' ago' ];
				}),
				_('No offers heard yet.'))
			: table('bitmesh-offers', [ _('Gateway'), _('Address'), _('Last seen') ],
				gateways.map(function(p) { return [ short(p.id), p.address, ago(p.lastSeenMsAgo) + ' ago' ]; }),
				_('No gateway heard: no offers.')) ]),
		section(_('Channels') + ' (' + channels.length + ')', [ table('bitmesh-channels',
			[ _('Channel'), _('Role'), _('Peer'), _('State'), _('Capacity'), _('Price'), _('Paid'), _('Bytes') ],
			channels.map(function(c) {
				return [ short(c.id), c.role === 'payee' ? _('selling') : _('buying'), short(c.peer), c.state,
					c.capacitySat.toLocaleString('en-US') + ' sat', c.priceMsatPerKiB + ' msat/KiB', sats(c.paidMsat), bytes(c.bytes) ];
			}), _('No payment channels.')) ])
	];
}

return view.extend({
	load: function() {
		return callOverview();
	},

	render: function(data) {
		var body = E('div', { 'id': 'bitmesh-status' }, renderOverview(data));
		poll.add(function() {
			return callOverview().then(function(d) { dom.content(body, renderOverview(d)); });
		}, 10);
		return E('div', {}, [ E('h2', {}, [ _('BitMesh') ]), body ]);
	},

	handleSaveApply: null,
	handleSave: null,
	handleReset: null
});
