// Shuffle sharding (upstream's shufflesharding.Dealer): a flow's hash deals it a hand of `handSize`
// distinct queues out of `deckSize`. Two flows rarely get the same hand, so one heavy flow fills only its
// own hand's queues and a light flow almost always finds a short queue in its hand.

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = (1n << 64n) - 1n;

/** FNV-1a 64 of the schema name and the distinguisher (as upstream's hashFlowID), cut to 52 bits. */
export function flowHash(flowSchemaName: string, distinguisher: string): number {
  let hash = FNV_OFFSET;
  const bytes = Buffer.from(`${flowSchemaName},${distinguisher}`, 'utf8');
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK_64;
  // 52 bits are exactly representable as a number and leave ample entropy for every valid deck/hand.
  return Number(hash >> 12n);
}

/** Upstream's validation: a hand must fit the deck and the hash (about 60 bits; 52 here, checked too). */
export function validateDealer(deckSize: number, handSize: number): string | undefined {
  if (deckSize <= 0 || handSize <= 0) return 'deckSize and handSize must be positive';
  if (handSize > deckSize) return `handSize ${handSize} is greater than deckSize ${deckSize}`;
  if (Math.ceil(Math.log2(deckSize) * handSize) > 60) return `required entropy bits of deckSize ${deckSize} and handSize ${handSize} should not be greater than 60`;
  return undefined;
}

/** The hand for a hash: `handSize` distinct queue indices in [0, deckSize). */
export function dealHand(hash: number, deckSize: number, handSize: number): number[] {
  const hand: number[] = [];
  let remaining = hash;
  for (let index = 0; index < handSize; index++) {
    const left = deckSize - index;
    let card = remaining % left;
    remaining = Math.floor(remaining / left);
    // The card-th queue among those not dealt yet: step over the ones already in the hand.
    for (const dealt of [...hand].sort((a, b) => a - b)) if (card >= dealt) card++;
    hand.push(card);
  }
  return hand;
}
