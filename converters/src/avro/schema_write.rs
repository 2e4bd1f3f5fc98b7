//! Writing an Avro schema back as text, exactly as Avro Java's `Schema.toString()` does, so the
//! text Tributary registers is the text Kafka Connect would register for the same schema.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::schema::{Avro, Name, Node, Props, SchemaParseError};
use crate::json::write;

fn err<T>(msg: impl Into<String>) -> Result<T, SchemaParseError> {
    Err(SchemaParseError(msg.into()))
}

/// Writes `node` as Avro Java's `Schema.toString()` does (compact JSON, named types written
/// once and referred to by name afterwards).
pub(crate) fn to_json(node: &Node) -> Result<String, SchemaParseError> {
    let mut w = Writer { out: Vec::with_capacity(256), known: HashMap::new(), space: None };
    w.node(node)?;
    String::from_utf8(w.out).map_err(|e| SchemaParseError(e.to_string()))
}

struct Writer<'a> {
    out: Vec<u8>,
    /// Named types written, by full name, with what was written (a different type under a
    /// name already used is an error, as in Avro Java).
    known: HashMap<String, &'a Node>,
    space: Option<String>,
}

impl<'a> Writer<'a> {
    fn raw(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }
    fn str(&mut self, s: &str) {
        write::string(&mut self.out, s);
    }
    fn field(&mut self, key: &str) {
        self.raw(",");
        self.str(key);
        self.raw(":");
    }

    /// `true` when the name was written before (and a reference was written now).
    fn name_ref(&mut self, name: &Name, node: &'a Node) -> Result<bool, SchemaParseError> {
        let full = name.full();
        if let Some(prev) = self.known.get(&full) {
            if *prev != node {
                return err(format!("two different Avro types are named {full}"));
            }
            let q = if name.namespace == self.space { name.name.clone() } else { full };
            self.str(&q);
            return Ok(true);
        }
        self.known.insert(full, node);
        Ok(false)
    }

    fn write_name(&mut self, name: &Name) {
        self.field("name");
        self.str(&name.name);
        match &name.namespace {
            Some(ns) if Some(ns) != self.space.as_ref() => {
                self.field("namespace");
                self.str(ns);
            }
            None if self.space.is_some() => {
                self.field("namespace");
                self.str("");
            }
            _ => {}
        }
    }

    /// `{"type":"<kind>"`, the name (and namespace) and the doc of a named type, in Java's order.
    fn open_named(&mut self, kind: &str, name: &Name, doc: Option<&str>) {
        self.raw("{\"type\":");
        self.str(kind);
        self.write_name(name);
        if let Some(d) = doc {
            self.field("doc");
            self.str(d);
        }
    }

    fn props(&mut self, props: &Props) {
        for (k, v) in props {
            self.field(k);
            json_value(&mut self.out, v);
        }
    }

    fn aliases(&mut self, aliases: &[String], space: Option<&String>) {
        if aliases.is_empty() {
            return;
        }
        self.field("aliases");
        self.raw("[");
        for (i, a) in aliases.iter().enumerate() {
            if i > 0 {
                self.raw(",");
            }
            // Aliases are written relative to the type's namespace.
            let n = Name::parse(a);
            let q = if n.namespace.is_none() || n.namespace.as_ref() == space { n.name } else { a.clone() };
            self.str(&q);
        }
        self.raw("]");
    }

    fn node(&mut self, node: &'a Node) -> Result<(), SchemaParseError> {
        match &node.ty {
            Avro::Record(r) => {
                if self.name_ref(&r.name, node)? {
                    return Ok(());
                }
                self.open_named("record", &r.name, r.doc.as_deref());
                let saved = std::mem::replace(&mut self.space, r.name.namespace.clone());
                self.field("fields");
                self.raw("[");
                for (i, f) in r.fields.iter().enumerate() {
                    if i > 0 {
                        self.raw(",");
                    }
                    self.raw("{\"name\":");
                    self.str(&f.name);
                    self.field("type");
                    self.node(&f.schema)?;
                    if let Some(d) = &f.doc {
                        self.field("doc");
                        self.str(d);
                    }
                    if let Some(d) = &f.default {
                        self.field("default");
                        json_value(&mut self.out, d);
                    }
                    if let Some(o) = f.order.as_deref().filter(|o| *o != "ascending") {
                        self.field("order");
                        self.str(o);
                    }
                    if !f.aliases.is_empty() {
                        self.field("aliases");
                        self.raw("[");
                        for (i, a) in f.aliases.iter().enumerate() {
                            if i > 0 {
                                self.raw(",");
                            }
                            self.str(a);
                        }
                        self.raw("]");
                    }
                    self.props(&f.props);
                    self.raw("}");
                }
                self.raw("]");
                self.props(&r.props);
                self.aliases(&r.aliases, r.name.namespace.as_ref());
                self.space = saved;
                self.raw("}");
            }
            Avro::Enum(e) => {
                if self.name_ref(&e.name, node)? {
                    return Ok(());
                }
                self.open_named("enum", &e.name, e.doc.as_deref());
                self.field("symbols");
                self.raw("[");
                for (i, s) in e.symbols.iter().enumerate() {
                    if i > 0 {
                        self.raw(",");
                    }
                    self.str(s);
                }
                self.raw("]");
                if let Some(d) = &e.default {
                    self.field("default");
                    self.str(d);
                }
                self.props(&e.props);
                self.aliases(&e.aliases, e.name.namespace.as_ref());
                self.raw("}");
            }
            Avro::Fixed(f) => {
                if self.name_ref(&f.name, node)? {
                    return Ok(());
                }
                self.open_named("fixed", &f.name, f.doc.as_deref());
                self.field("size");
                self.raw(&f.size.to_string());
                self.props(&f.props);
                self.aliases(&f.aliases, f.name.namespace.as_ref());
                self.raw("}");
            }
            Avro::Array(items) => {
                self.raw("{\"type\":\"array\",\"items\":");
                self.node(items)?;
                self.props(&node.props);
                self.raw("}");
            }
            Avro::Map(values) => {
                self.raw("{\"type\":\"map\",\"values\":");
                self.node(values)?;
                self.props(&node.props);
                self.raw("}");
            }
            Avro::Union(members) => {
                self.raw("[");
                for (i, m) in members.iter().enumerate() {
                    if i > 0 {
                        self.raw(",");
                    }
                    self.node(m)?;
                }
                self.raw("]");
            }
            _ => {
                if node.props.is_empty() {
                    self.str(node.type_name());
                } else {
                    self.raw("{\"type\":");
                    self.str(node.type_name());
                    self.props(&node.props);
                    self.raw("}");
                }
            }
        }
        Ok(())
    }
}

/// Writes a JSON value as Jackson does (numbers as their text, strings escaped as Jackson
/// escapes them).
pub(crate) fn json_value(out: &mut Vec<u8>, v: &Json) {
    match v {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Json::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Json::String(s) => write::string(out, s),
        Json::Array(a) => {
            out.push(b'[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_value(out, e);
            }
            out.push(b']');
        }
        Json::Object(o) => {
            out.push(b'{');
            for (i, (k, e)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write::string(out, k);
                out.push(b':');
                json_value(out, e);
            }
            out.push(b'}');
        }
    }
}
