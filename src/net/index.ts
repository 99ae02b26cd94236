export { classifyAddress, PRIVATE_NETWORK_CATEGORIES, type AddressCategory } from './address-category.js';
export { AllowList } from './allow-list.js';
export { DestinationRefusedError } from './destination-refused-error.js';
export { createGuardedSocket } from './guarded-socket.js';
export { embeddedIpv4, parseIpLiteral, type IpLiteral } from './ip-address.js';
export { guardedLookup, OutboundGuard, resolveAndCheck, type GuardDecision, type HostResolver, type OutboundGuardOptions } from './outbound-guard.js';
