"""Pure domain logic: attribute values, numbers, sizes, key encoding, schemas. No I/O."""
