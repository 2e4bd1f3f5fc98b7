//! Unit tests of the group protocol encodings and the assignor.
