//! Avro schemas as the converter handles them: a small tree that keeps every property (Avro
//! libraries drop the properties of primitive types, where Confluent keeps `connect.type`,
//! `connect.name` and friends), parsed from the registry's JSON after apache-avro has checked it
//! against the specification, and written back exactly as Avro Java's `Schema.toString()` does,
//! so the text Tributary registers is the text Kafka Connect would register for the same schema.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value as Json;

pub(crate) use super::schema_write::to_json;

/// Properties in the order they were added (Avro Java keeps insertion order).
pub(crate) type Props = Vec<(String, Json)>;

/// A schema node: its type and, for unnamed types, its own properties.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub(crate) ty: Avro,
    /// Properties of primitive, array and map nodes (named types keep theirs inside).
    pub(crate) props: Props,
}

/// Avro types.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Avro {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Record(Arc<Record>),
    Enum(Arc<Enum>),
    Fixed(Arc<Fixed>),
    Array(Box<Node>),
    Map(Box<Node>),
    Union(Vec<Node>),
}

/// A full name split as Avro does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Name {
    pub(crate) name: String,
    pub(crate) namespace: Option<String>,
}

impl Name {
    /// Splits `full` at its last dot.
    pub(crate) fn parse(full: &str) -> Self {
        match full.rsplit_once('.') {
            Some((ns, n)) => Self { name: n.to_owned(), namespace: (!ns.is_empty()).then(|| ns.to_owned()) },
            None => Self { name: full.to_owned(), namespace: None },
        }
    }
    pub(crate) fn full(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Record {
    pub(crate) name: Name,
    pub(crate) doc: Option<String>,
    pub(crate) fields: Vec<RecordField>,
    pub(crate) props: Props,
    pub(crate) aliases: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RecordField {
    pub(crate) name: String,
    pub(crate) schema: Node,
    pub(crate) doc: Option<String>,
    pub(crate) default: Option<Json>,
    pub(crate) order: Option<String>,
    pub(crate) aliases: Vec<String>,
    pub(crate) props: Props,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Enum {
    pub(crate) name: Name,
    pub(crate) doc: Option<String>,
    pub(crate) symbols: Vec<String>,
    pub(crate) default: Option<String>,
    pub(crate) props: Props,
    pub(crate) aliases: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Fixed {
    pub(crate) name: Name,
    pub(crate) doc: Option<String>,
    pub(crate) size: usize,
    pub(crate) props: Props,
    pub(crate) aliases: Vec<String>,
}

impl Node {
    pub(crate) fn new(ty: Avro) -> Self {
        Self { ty, props: Vec::new() }
    }

    /// A property of this node (of the named type for records, enums and fixed).
    pub(crate) fn prop(&self, key: &str) -> Option<&Json> {
        let props = match &self.ty {
            Avro::Record(r) => &r.props,
            Avro::Enum(e) => &e.props,
            Avro::Fixed(f) => &f.props,
            _ => &self.props,
        };
        props.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub(crate) fn props(&self) -> &Props {
        match &self.ty {
            Avro::Record(r) => &r.props,
            Avro::Enum(e) => &e.props,
            Avro::Fixed(f) => &f.props,
            _ => &self.props,
        }
    }

    /// The type's name as Avro spells it (`int`, `record`...).
    pub(crate) fn type_name(&self) -> &'static str {
        match &self.ty {
            Avro::Null => "null",
            Avro::Boolean => "boolean",
            Avro::Int => "int",
            Avro::Long => "long",
            Avro::Float => "float",
            Avro::Double => "double",
            Avro::Bytes => "bytes",
            Avro::String => "string",
            Avro::Record(_) => "record",
            Avro::Enum(_) => "enum",
            Avro::Fixed(_) => "fixed",
            Avro::Array(_) => "array",
            Avro::Map(_) => "map",
            Avro::Union(_) => "union",
        }
    }

    /// Adds a property unless one with that key exists (as Avro Java's `addProp` of an equal
    /// value does).
    pub(crate) fn add_prop(&mut self, key: &str, value: Json) {
        let props = match &mut self.ty {
            Avro::Record(r) => &mut Arc::make_mut(r).props,
            Avro::Enum(e) => &mut Arc::make_mut(e).props,
            Avro::Fixed(f) => &mut Arc::make_mut(f).props,
            _ => &mut self.props,
        };
        if !props.iter().any(|(k, _)| k == key) {
            props.push((key.to_owned(), value));
        }
    }
}

/// Why a schema text cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct SchemaParseError(pub(crate) String);

fn err<T>(msg: impl Into<String>) -> Result<T, SchemaParseError> {
    Err(SchemaParseError(msg.into()))
}

/// Parses an Avro schema text: checked by apache-avro against the specification first, then
/// read into a [`Node`] keeping every property.
pub(crate) fn parse(text: &str) -> Result<Node, SchemaParseError> {
    apache_avro::Schema::parse_str(text).map_err(|e| SchemaParseError(format!("invalid Avro schema: {e}")))?;
    let json: Json =
        serde_json::from_str(text).map_err(|e| SchemaParseError(format!("Avro schema is not JSON: {e}")))?;
    let node = Parser::default().node(&json, None)?;
    // Named types are expanded at each use by the Connect mapping: refuse schemas whose
    // expansion is hostile (a type used twice by the next, and so on, doubles each level).
    let mut budget = MAX_EXPANDED_NODES;
    count_nodes(&node, &mut budget)?;
    Ok(node)
}

/// Schema nodes the Connect mapping may expand one schema into.
const MAX_EXPANDED_NODES: usize = 100_000;

/// Largest `fixed` size accepted (a datum of one value must fit in memory).
const MAX_FIXED_SIZE: u64 = 16 * 1024 * 1024;

fn count_nodes(node: &Node, budget: &mut usize) -> Result<(), SchemaParseError> {
    *budget = budget.checked_sub(1).ok_or_else(|| {
        SchemaParseError(format!(
            "Avro schema expands to more than {MAX_EXPANDED_NODES} types once its named types are inlined"
        ))
    })?;
    match &node.ty {
        Avro::Record(r) => r.fields.iter().try_for_each(|f| count_nodes(&f.schema, budget)),
        Avro::Array(n) | Avro::Map(n) => count_nodes(n, budget),
        Avro::Union(m) => m.iter().try_for_each(|n| count_nodes(n, budget)),
        _ => Ok(()),
    }
}

#[derive(Default)]
struct Parser {
    /// Named types defined so far, by full name; `None` while being defined.
    names: HashMap<String, Option<Node>>,
}

const PRIMITIVES: [&str; 8] = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"];

fn primitive(name: &str) -> Option<Avro> {
    Some(match name {
        "null" => Avro::Null,
        "boolean" => Avro::Boolean,
        "int" => Avro::Int,
        "long" => Avro::Long,
        "float" => Avro::Float,
        "double" => Avro::Double,
        "bytes" => Avro::Bytes,
        "string" => Avro::String,
        _ => return None,
    })
}

fn text<'a>(o: &'a serde_json::Map<String, Json>, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Json::as_str)
}

fn aliases(o: &serde_json::Map<String, Json>) -> Vec<String> {
    o.get("aliases")
        .and_then(Json::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn other_props(o: &serde_json::Map<String, Json>, reserved: &[&str]) -> Props {
    o.iter().filter(|(k, _)| !reserved.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

impl Parser {
    fn reference(&self, name: &str, space: Option<&str>) -> Result<Node, SchemaParseError> {
        let candidates = match (name.contains('.'), space) {
            (false, Some(ns)) => vec![format!("{ns}.{name}"), name.to_owned()],
            _ => vec![name.to_owned()],
        };
        for c in candidates {
            match self.names.get(&c) {
                Some(Some(node)) => return Ok(node.clone()),
                Some(None) => {
                    return err(format!("recursive Avro schemas are not supported by the Connect mapping (type {c})"));
                }
                None => {}
            }
        }
        err(format!("unknown Avro type '{name}'"))
    }

    fn name(&self, o: &serde_json::Map<String, Json>, space: Option<&str>) -> Result<Name, SchemaParseError> {
        let Some(name) = text(o, "name") else { return err("named Avro type without a name") };
        let mut n = Name::parse(name);
        if n.namespace.is_none() {
            n.namespace = match o.get("namespace") {
                Some(Json::String(ns)) => (!ns.is_empty()).then(|| ns.clone()),
                _ => space.map(str::to_owned),
            };
        }
        Ok(n)
    }

    fn node(&mut self, json: &Json, space: Option<&str>) -> Result<Node, SchemaParseError> {
        match json {
            Json::String(name) => match primitive(name) {
                Some(ty) => Ok(Node::new(ty)),
                None => self.reference(name, space),
            },
            Json::Array(members) => {
                let nodes = members.iter().map(|m| self.node(m, space)).collect::<Result<_, _>>()?;
                Ok(Node::new(Avro::Union(nodes)))
            }
            Json::Object(o) => self.object(o, space),
            other => err(format!("not an Avro schema: {other}")),
        }
    }

    fn object(&mut self, o: &serde_json::Map<String, Json>, space: Option<&str>) -> Result<Node, SchemaParseError> {
        let Some(ty) = text(o, "type") else { return err("Avro schema object without a \"type\"") };
        if let Some(p) = primitive(ty) {
            return Ok(Node { ty: p, props: other_props(o, &["type"]) });
        }
        match ty {
            "record" | "error" => {
                let name = self.name(o, space)?;
                let full = name.full();
                self.names.insert(full.clone(), None);
                let inner = name.namespace.clone();
                let mut fields = Vec::new();
                for f in o.get("fields").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default() {
                    let Some(fo) = f.as_object() else { return err("record field is not an object") };
                    let Some(fname) = text(fo, "name") else { return err("record field without a name") };
                    let Some(ftype) = fo.get("type") else { return err(format!("field {fname} has no type")) };
                    fields.push(RecordField {
                        name: fname.to_owned(),
                        schema: self.node(ftype, inner.as_deref())?,
                        doc: text(fo, "doc").map(str::to_owned),
                        default: fo.get("default").cloned(),
                        order: text(fo, "order").map(str::to_owned),
                        aliases: aliases(fo),
                        props: other_props(fo, &["name", "type", "doc", "default", "order", "aliases"]),
                    });
                }
                let node = Node::new(Avro::Record(Arc::new(Record {
                    name,
                    doc: text(o, "doc").map(str::to_owned),
                    fields,
                    props: other_props(o, &["type", "name", "namespace", "doc", "fields", "aliases"]),
                    aliases: aliases(o),
                })));
                self.names.insert(full, Some(node.clone()));
                Ok(node)
            }
            "enum" => {
                let name = self.name(o, space)?;
                let symbols = o
                    .get("symbols")
                    .and_then(Json::as_array)
                    .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default();
                let full = name.full();
                let node = Node::new(Avro::Enum(Arc::new(Enum {
                    name,
                    doc: text(o, "doc").map(str::to_owned),
                    symbols,
                    default: text(o, "default").map(str::to_owned),
                    props: other_props(o, &["type", "name", "namespace", "doc", "symbols", "default", "aliases"]),
                    aliases: aliases(o),
                })));
                self.names.insert(full, Some(node.clone()));
                Ok(node)
            }
            "fixed" => {
                let name = self.name(o, space)?;
                let Some(size) = o.get("size").and_then(Json::as_u64) else { return err("fixed without a size") };
                if size > MAX_FIXED_SIZE {
                    return err(format!("fixed size {size} is larger than the {MAX_FIXED_SIZE} bytes supported"));
                }
                let full = name.full();
                let node = Node::new(Avro::Fixed(Arc::new(Fixed {
                    name,
                    doc: text(o, "doc").map(str::to_owned),
                    size: size as usize,
                    props: other_props(o, &["type", "name", "namespace", "doc", "size", "aliases"]),
                    aliases: aliases(o),
                })));
                self.names.insert(full, Some(node.clone()));
                Ok(node)
            }
            "array" => {
                let Some(items) = o.get("items") else { return err("array without items") };
                let items = self.node(items, space)?;
                Ok(Node { ty: Avro::Array(Box::new(items)), props: other_props(o, &["type", "items"]) })
            }
            "map" => {
                let Some(values) = o.get("values") else { return err("map without values") };
                let values = self.node(values, space)?;
                Ok(Node { ty: Avro::Map(Box::new(values)), props: other_props(o, &["type", "values"]) })
            }
            other if !PRIMITIVES.contains(&other) => self.reference(other, space),
            other => err(format!("unsupported Avro type {other}")),
        }
    }
}

/// The name Confluent's record name strategies use: the full name of a record, enum or fixed,
/// the type's name otherwise (as `AvroSchema.name()`).
pub(crate) fn record_name(node: &Node) -> String {
    match &node.ty {
        Avro::Record(r) => r.name.full(),
        Avro::Enum(e) => e.name.full(),
        Avro::Fixed(f) => f.name.full(),
        _ => node.type_name().to_owned(),
    }
}
