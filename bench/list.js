// Generated subscribers for the benchmarks that need a list in the database.

/**
 * Imports `count` active subscribers into a SubscriberList, 5,000 a
 * transaction, the i-th with the address `addressOf(i)` (and the name
 * `nameOf(i)` when given); returns the addresses in order.
 */
export async function importActive(list, count, addressOf, { nameOf, at = new Date() } = {}) {
  const addresses = Array.from({ length: count }, (_, i) => addressOf(i));
  for (let i = 0; i < count; i += 5000) {
    const rows = addresses.slice(i, i + 5000).map((address, j) => ({ line: i + j + 2, address: { address, identity: address }, ...(nameOf ? { name: nameOf(i + j) } : {}), status: "active", fields: {} }));
    await list.importRows(rows, "import:bench", at);
  }
  return addresses;
}
