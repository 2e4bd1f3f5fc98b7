//! Avro in the Confluent wire format: the AvroConverter, the Connect <-> Avro mapping, and the
//! schema registry client it uses.
