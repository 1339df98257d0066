// The service the Thrift interop tests speak: rich enough that message bodies use every
// Thrift type the codec has to walk (strings, binary, lists, sets, maps, nested structs,
// bools, bytes, doubles) plus a declared exception and a oneway call.
namespace py interop

exception Overloaded {
  1: string reason,
  2: i32 retryAfterMs,
}

struct Payload {
  1: string text,
  2: binary blob,
  3: list<i64> numbers,
  4: map<string, double> weights,
  5: set<i16> tags,
  6: bool flag,
  7: i8 small,
  8: optional Payload nested,
  9: list<bool> switches,
}

service Echo {
  Payload echo(1: Payload payload, 2: i32 times) throws (1: Overloaded overloaded),
  void ping(),
  oneway void notify(1: string event),
  // The shape MetaProxyLab's frame synthesizer writes: one binary argument, a binary result.
  binary blob(1: binary payload) throws (1: Overloaded overloaded),
}
