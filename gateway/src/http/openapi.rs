//! The OpenAPI 3.1 document of the JSON API, built from the proto
//! descriptors alone: one path per exposed gRPC method, one schema per
//! message and enum it reaches, following the proto3 JSON mapping as
//! prost-reflect reads and writes it (lowerCamelCase JSON names, 64-bit
//! integers and enums as strings), and the shared error body. Descriptions
//! come from the .proto comments, so the document says what the protos say.
//! It only describes; serving the document and the calls is the HTTP edge's.

use std::collections::{BTreeMap, HashMap};

use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor};
use serde_json::{Map, Value, json};

/// How a method is reached over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `POST /api/<package.Service>/<Method>`, JSON in, JSON out.
    Unary,
    /// `POST /api/upload/<package.Service>/<Method>?<first-message fields as query>`: the body is the file
    /// (raw bytes, or multipart/form-data with one part per file); the answer is
    /// `application/x-ndjson`, one response message (canonical JSON) per line, progress then the report;
    /// an error after the first line comes as a last line `{"error": <Error>}`.
    Upload,
    /// `GET /api/download/<package.Service>/<Method>?<request fields as query>`: the answer is the file's bytes
    /// (`application/octet-stream`, Content-Disposition attachment), streamed as the server produces them.
    Download,
}

/// One method the JSON API exposes.
#[derive(Debug, Clone)]
pub struct Exposed {
    pub method: MethodDescriptor,
    /// Needs no token (sign-in, refresh, verification keys).
    pub public: bool,
    pub shape: Shape,
    /// Who may call it, in words, e.g. "staff", "librarians", "district admins", "signed in", "anyone"; goes into the description.
    pub who: String,
}

const ERROR_SCHEMA: &str = "Error";
const REASON_ENUM: &str = "lectern.common.v1.Reason";
/// The error responses every operation may answer, with the Connect codes
/// behind each status.
const ERROR_RESPONSES: &[(&str, &str, &str)] = &[
    (
        "400",
        "BadRequest",
        "Wrong input (invalid_argument, naming the field) or a refusal (failed_precondition).",
    ),
    ("401", "Unauthenticated", "No valid bearer token or session cookie (unauthenticated)."),
    ("403", "PermissionDenied", "Not allowed (permission_denied), or a cookie without a valid X-CSRF-Token."),
    ("404", "NotFound", "A named thing does not exist (not_found)."),
    ("405", "MethodNotAllowed", "The call was made with another HTTP method than the one it takes."),
    ("409", "Conflict", "It exists already (already_exists) or changed meanwhile (aborted)."),
    ("413", "PayloadTooLarge", "The body is larger than the gateway accepts."),
    ("415", "UnsupportedMediaType", "The body is not of a content type the operation takes."),
    ("429", "TooManyRequests", "Too many attempts or calls; try later (resource_exhausted)."),
    ("500", "Internal", "A fault inside Lectern (internal); the message says no more."),
    ("503", "Unavailable", "The service behind the gateway cannot answer now; retry (unavailable)."),
    (
        "504",
        "DeadlineExceeded",
        "The service behind the gateway took too long (deadline_exceeded); check before retrying.",
    ),
];
/// Every Connect error code, as `Error.code` spells it.
const CONNECT_CODES: &str = "canceled unknown invalid_argument deadline_exceeded not_found already_exists \
    permission_denied resource_exhausted failed_precondition aborted out_of_range unimplemented internal \
    unavailable data_loss unauthenticated";

/// The OpenAPI 3.1 document of `methods`.
pub fn document(methods: &[Exposed], version: &str) -> Value {
    let pool = methods.first().map(|exposed| exposed.method.parent_pool().clone());
    let mut schemas = Schemas { comments: Comments::of(pool.as_ref()), components: BTreeMap::new() };
    let mut paths = Map::new();
    let mut tags: Vec<Value> = Vec::new();
    for exposed in methods {
        let service = exposed.method.parent_service();
        if !tags.iter().any(|tag| tag["name"] == service.name()) {
            let mut tag = json!({"name": service.name()});
            if let Some(text) = schemas.comments.get(service.parent_file().name(), service.path()) {
                tag["description"] = json!(text);
            }
            tags.push(tag);
        }
        let (path, verb, operation) = operation(exposed, &mut schemas);
        paths.insert(path, json!({ verb: operation }));
    }
    let mut components = Map::new();
    for (name, schema) in std::mem::take(&mut schemas.components) {
        components.insert(name, schema.unwrap_or_default());
    }
    components.insert(ERROR_SCHEMA.to_owned(), error_schema(pool.as_ref()));
    let responses: Map<String, Value> = ERROR_RESPONSES
        .iter()
        .map(|(_, name, text)| {
            let body = json!({"application/json": {"schema": {"$ref": format!("#/components/schemas/{ERROR_SCHEMA}")}}});
            ((*name).to_owned(), json!({"description": text, "content": body}))
        })
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Lectern JSON API",
            "version": version,
            "description": "Each call is a gRPC method of Lectern, reached as JSON over HTTP the way the Connect \
                protocol does unary calls: `POST /api/<package.Service>/<Method>` with the request message as \
                JSON, answered with the response message as JSON (proto3 JSON mapping: lowerCamelCase names, \
                64-bit integers and enums as strings, every field present, unset messages left out). A refusal \
                answers with an HTTP error status and an `Error` body whose `code` is the Connect code and \
                whose `reason` a client may switch on. Authenticate with `Authorization: Bearer <token>` from \
                `Login`, or, in a browser, with the sign-in cookie plus the page's `X-CSRF-Token` header. \
                See docs/api.md.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"cookie": [], "csrf": []}],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": responses,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "The access token from `Login` or `RefreshSession`."},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "lectern_session", "description": "The browser's sign-in cookie; needs `X-CSRF-Token` too."},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token", "description": "The token of the page that makes the call, sent with the sign-in cookie."},
            },
        },
    })
}

/// The path, HTTP method and operation object of one exposed method.
fn operation(exposed: &Exposed, schemas: &mut Schemas) -> (String, &'static str, Value) {
    let method = &exposed.method;
    let service = method.parent_service();
    let comment = schemas.comments.get(method.parent_file().name(), method.path()).unwrap_or_default();
    let summary = first_sentence(&comment);
    let full = format!("{}/{}", service.full_name(), method.name());
    let mut operation = json!({
        "operationId": format!("{}_{}", service.name(), method.name()),
        "tags": [service.name()],
        "summary": if summary.is_empty() { method.name().to_owned() } else { summary },
    });
    let (path, verb) = match exposed.shape {
        Shape::Unary => {
            let (input, output) = (schemas.reference(&method.input()), schemas.reference(&method.output()));
            operation["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": input}}});
            operation["responses"] = json!({"200": {"description": "The response message.", "content": {"application/json": {"schema": output}}}});
            (format!("/api/{full}"), "post")
        }
        Shape::Upload => {
            let input = method.input();
            // The first message of the call: the options message when the
            // request wraps one (ImportMarc), else the request itself.
            let first = input.fields().find_map(|field| match field.kind() {
                Kind::Message(message) if !field.is_list() && !is_well_known(&message) => Some(message),
                _ => None,
            });
            operation["parameters"] = json!(schemas.query(&first.unwrap_or(input)));
            let multipart = json!({"type": "object", "minProperties": 1, "additionalProperties": binary(),
                "description": "One part per file, named by the file's name."});
            operation["requestBody"] = json!({"required": true, "description": "The file.", "content": {
                "application/octet-stream": {"schema": binary()},
                "multipart/form-data": {"schema": multipart},
            }});
            let line = json!({"anyOf": [schemas.reference(&method.output()), {"type": "object", "required": ["error"], "additionalProperties": false,
                "properties": {"error": {"$ref": format!("#/components/schemas/{ERROR_SCHEMA}")}}}]});
            operation["responses"] = json!({"200": {
                "description": "Newline-delimited JSON (OpenAPI has no standard for it): each line is one response \
                    message, progress then the report; an error after the first line comes as a last line \
                    `{\"error\": <Error>}`. The schema describes one line.",
                "content": {"application/x-ndjson": {"schema": line}},
            }});
            (format!("/api/upload/{full}"), "post")
        }
        Shape::Download => {
            operation["parameters"] = json!(schemas.query(&method.input()));
            let disposition =
                json!({"description": "`attachment`, with the file's name.", "schema": {"type": "string"}});
            operation["responses"] = json!({"200": {
                "description": "The file's bytes, streamed as the server produces them.",
                "headers": {"Content-Disposition": disposition},
                "content": {"application/octet-stream": {"schema": binary()}},
            }});
            (format!("/api/download/{full}"), "get")
        }
    };
    let how = match exposed.shape {
        Shape::Unary => "",
        Shape::Upload => "\n\nThe body is the file; the options go in the query.",
        Shape::Download => "\n\nThe request's fields go in the query; the answer is the file.",
    };
    let description = format!("{comment}{how}\n\nWho may call: {}.", exposed.who);
    operation["description"] = json!(description.trim_start());
    for (status, name, _) in ERROR_RESPONSES {
        operation["responses"][*status] = json!({"$ref": format!("#/components/responses/{name}")});
    }
    if exposed.public {
        operation["security"] = json!([]);
    }
    (path, verb, operation)
}

fn binary() -> Value {
    json!({"type": "string", "format": "binary"})
}

/// The shared error body, with every reason the descriptors know.
fn error_schema(pool: Option<&DescriptorPool>) -> Value {
    let mut reason = json!({"type": "string", "description": "Why a rule refused the call (`lectern.common.v1.Reason`); \
        a client treats a reason it does not know like a generic refusal."});
    if let Some(reasons) = pool.and_then(|pool| pool.get_enum_by_name(REASON_ENUM)) {
        let names: Vec<String> = reasons
            .values()
            .map(|value| value.name().to_owned())
            .filter(|name| name != "REASON_UNSPECIFIED")
            .collect();
        reason["enum"] = json!(names);
    }
    json!({
        "type": "object",
        "description": "A refused or failed call.",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "enum": CONNECT_CODES.split_whitespace().collect::<Vec<_>>(), "description": "The Connect error code, e.g. `failed_precondition`."},
            "message": {"type": "string", "description": "What went wrong, for a person; shown as it is."},
            "reason": reason,
            "metadata": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Facts about the refusal, e.g. `loan_id`."},
            "field": {"type": "string", "description": "The request field at fault, for invalid_argument."},
        },
    })
}

/// The leading comments of the source info, by file and descriptor path.
struct Comments(HashMap<(String, Vec<i32>), String>);

impl Comments {
    fn of(pool: Option<&DescriptorPool>) -> Self {
        let mut comments = HashMap::new();
        for file in pool.into_iter().flat_map(|pool| pool.files()) {
            let Some(info) = &file.file_descriptor_proto().source_code_info else { continue };
            for location in &info.location {
                if let Some(text) =
                    location.leading_comments.as_deref().map(tidy).filter(|text| !text.is_empty())
                {
                    comments.insert((file.name().to_owned(), location.path.clone()), text);
                }
            }
        }
        Comments(comments)
    }

    fn get(&self, file: &str, path: &[i32]) -> Option<String> {
        self.0.get(&(file.to_owned(), path.to_vec())).cloned()
    }
}

/// A proto comment as prose: lines of a paragraph joined, paragraphs kept.
fn tidy(comment: &str) -> String {
    let paragraphs: Vec<String> = comment
        .split("\n\n")
        .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|paragraph| !paragraph.is_empty())
        .collect();
    paragraphs.join("\n\n")
}

fn first_sentence(text: &str) -> String {
    let end = text.find(". ").or_else(|| text.find(".\n")).map(|at| at + 1);
    text[..end.unwrap_or(text.len())].to_owned()
}

/// The component schemas, filled as messages and enums are referenced.
struct Schemas {
    comments: Comments,
    /// `None` while a message is being built, so that recursion stops.
    components: BTreeMap<String, Option<Value>>,
}

impl Schemas {
    /// A `$ref` to the message's schema, building it first if needed.
    fn reference(&mut self, message: &MessageDescriptor) -> Value {
        if let Some(inline) = well_known(message) {
            return inline;
        }
        let name = message.full_name().to_owned();
        if !self.components.contains_key(&name) {
            self.components.insert(name.clone(), None);
            let schema = self.message(message);
            self.components.insert(name.clone(), Some(schema));
        }
        json!({"$ref": format!("#/components/schemas/{name}")})
    }

    fn message(&mut self, message: &MessageDescriptor) -> Value {
        let mut properties = Map::new();
        for field in message.fields() {
            let mut schema = self.field(&field);
            let oneof = field.containing_oneof().filter(|oneof| !oneof.is_synthetic());
            let mut text = self.comments.get(field.parent_file().name(), field.path()).unwrap_or_default();
            if let Some(oneof) = oneof {
                let names: Vec<String> = oneof.fields().map(|member| member.json_name().to_owned()).collect();
                let only = format!("Only one of: {}; left out when not set.", names.join(", "));
                text = if text.is_empty() { only } else { format!("{text} {only}") };
            }
            if !text.is_empty() {
                schema["description"] = json!(text);
            }
            properties.insert(field.json_name().to_owned(), schema);
        }
        // No `required`: responses carry every field but leave unset
        // messages out, and a request may leave anything out.
        let mut schema = json!({"type": "object", "properties": properties, "additionalProperties": false});
        if let Some(text) = self.comments.get(message.parent_file().name(), message.path()) {
            schema["description"] = json!(text);
        }
        schema
    }

    fn field(&mut self, field: &FieldDescriptor) -> Value {
        if let (true, Kind::Message(entry)) = (field.is_map(), field.kind()) {
            let value = self.kind(&entry.map_entry_value_field().kind());
            return json!({"type": "object", "additionalProperties": value});
        }
        let schema = self.kind(&field.kind());
        if field.is_list() { json!({"type": "array", "items": schema}) } else { schema }
    }

    fn kind(&mut self, kind: &Kind) -> Value {
        match kind {
            Kind::Double => json!({"type": "number"}),
            Kind::Float => json!({"type": "number", "minimum": f32::MIN, "maximum": f32::MAX}),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                json!({"type": "integer", "format": "int32", "minimum": i32::MIN, "maximum": i32::MAX})
            }
            Kind::Uint32 | Kind::Fixed32 => json!({"type": "integer", "minimum": 0, "maximum": u32::MAX}),
            // The server writes 64-bit integers as strings (JSON numbers lose
            // precision past 2^53); the patterns stay inside the type's range.
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
                json!({"type": "string", "pattern": "^-?[0-9]{1,18}$", "description": "A 64-bit integer, as a decimal string."})
            }
            Kind::Uint64 | Kind::Fixed64 => json!({"type": "string", "pattern": "^[0-9]{1,19}$",
                "description": "An unsigned 64-bit integer, as a decimal string."}),
            Kind::Bool => json!({"type": "boolean"}),
            Kind::String => json!({"type": "string"}),
            Kind::Bytes => json!({"type": "string", "contentEncoding": "base64",
                "pattern": "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"}),
            Kind::Message(message) => self.reference(message),
            Kind::Enum(enumeration) if enumeration.full_name() == "google.protobuf.NullValue" => {
                json!({"type": "null"})
            }
            Kind::Enum(enumeration) => {
                let name = enumeration.full_name().to_owned();
                if !self.components.contains_key(&name) {
                    let names: Vec<String> =
                        enumeration.values().map(|value| value.name().to_owned()).collect();
                    let mut schema = json!({"type": "string", "enum": names});
                    if let Some(text) =
                        self.comments.get(enumeration.parent_file().name(), enumeration.path())
                    {
                        schema["description"] = json!(text);
                    }
                    self.components.insert(name.clone(), Some(schema));
                }
                json!({"$ref": format!("#/components/schemas/{name}")})
            }
        }
    }

    /// Query parameters for the singular scalar and enum fields of `message`.
    fn query(&mut self, message: &MessageDescriptor) -> Vec<Value> {
        let mut parameters = Vec::new();
        for field in message.fields() {
            let scalar = !matches!(field.kind(), Kind::Message(_) | Kind::Bytes);
            if field.is_list() || field.is_map() || !scalar {
                continue;
            }
            let mut parameter = json!({"name": field.json_name(), "in": "query", "required": false, "schema": self.kind(&field.kind())});
            if let Some(text) = self.comments.get(field.parent_file().name(), field.path()) {
                parameter["description"] = json!(text);
            }
            parameters.push(parameter);
        }
        parameters
    }
}

fn is_well_known(message: &MessageDescriptor) -> bool {
    message.package_name() == "google.protobuf"
}

/// The inline schema of a well-known type, which has a JSON form of its own.
fn well_known(message: &MessageDescriptor) -> Option<Value> {
    if !is_well_known(message) {
        return None;
    }
    let schema = match message.name() {
        "Timestamp" => json!({"type": "string", "format": "date-time"}),
        "Duration" => {
            json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$", "description": "Seconds, e.g. `1.5s`."})
        }
        "FieldMask" => {
            json!({"type": "string", "description": "Field paths in lowerCamelCase, comma-separated."})
        }
        "Struct" => json!({"type": "object"}),
        "ListValue" => json!({"type": "array"}),
        "Value" => json!({}),
        "DoubleValue" | "FloatValue" => json!({"type": "number"}),
        "Int64Value" | "UInt64Value" => json!({"type": "string", "pattern": "^-?[0-9]{1,18}$"}),
        "Int32Value" | "UInt32Value" => json!({"type": "integer"}),
        "BoolValue" => json!({"type": "boolean"}),
        "StringValue" => json!({"type": "string"}),
        "BytesValue" => json!({"type": "string", "contentEncoding": "base64"}),
        // Empty, Any and the rest: an object.
        _ => json!({"type": "object"}),
    };
    Some(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposed(pool: &DescriptorPool, service: &str, method: &str, shape: Shape, public: bool) -> Exposed {
        let service = pool.get_service_by_name(service).expect("service");
        let method = service.methods().find(|candidate| candidate.name() == method).expect("method");
        Exposed { method, public, shape, who: "librarians".to_owned() }
    }

    fn sample() -> Value {
        let pool = DescriptorPool::decode(lectern_proto::FILE_DESCRIPTOR_SET).expect("descriptor set");
        let methods = [
            exposed(&pool, "lectern.circulation.v1.LoanService", "CheckOut", Shape::Unary, false),
            exposed(&pool, "lectern.catalog.v1.MarcService", "ImportMarc", Shape::Upload, false),
            exposed(&pool, "lectern.catalog.v1.MarcService", "ExportMarc", Shape::Download, false),
            exposed(&pool, "lectern.reader.v1.RosterService", "ImportRoster", Shape::Upload, false),
            exposed(&pool, "lectern.gateway.v1.GatewayService", "Login", Shape::Unary, true),
        ];
        document(&methods, "1.2.3")
    }

    fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target);
                }
                map.values().for_each(|child| refs(child, found));
            }
            Value::Array(items) => items.iter().for_each(|child| refs(child, found)),
            _ => {}
        }
    }

    #[test]
    fn check_out_is_documented_from_its_proto_comment() {
        let document = sample();
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(document["info"]["version"], "1.2.3");
        let check_out = &document["paths"]["/api/lectern.circulation.v1.LoanService/CheckOut"]["post"];
        assert_eq!(check_out["operationId"], "LoanService_CheckOut");
        assert_eq!(check_out["tags"], json!(["LoanService"]));
        assert_eq!(check_out["summary"], "Lends a copy to a reader under the circulation rule that applies.");
        let description = check_out["description"].as_str().expect("description");
        assert!(
            description.contains("READER_NOT_FOUND") && description.ends_with("Who may call: librarians.")
        );
        assert_eq!(
            check_out["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/lectern.circulation.v1.CheckOutRequest"
        );
        assert_eq!(check_out["responses"]["409"]["$ref"], "#/components/responses/Conflict");
        assert!(check_out.get("security").is_none(), "a token is needed");
    }

    #[test]
    fn every_reference_resolves() {
        let document = sample();
        let mut found = Vec::new();
        refs(&document, &mut found);
        assert!(found.len() > 20);
        for target in found {
            let pointer = target.strip_prefix('#').expect("local reference");
            assert!(document.pointer(pointer).is_some(), "{target} is missing");
        }
    }

    #[test]
    fn fields_follow_the_proto3_json_mapping() {
        let document = sample();
        let schemas = &document["components"]["schemas"];
        let counts = &schemas["lectern.catalog.v1.MarcImportCounts"]["properties"];
        assert_eq!(counts["recordsRead"]["type"], "string", "uint64 is written as a string");
        let format = &schemas["lectern.catalog.v1.MarcFormat"]["enum"];
        assert!(format.as_array().expect("names").contains(&json!("MARC_FORMAT_MARCXML")));
        let event = &schemas["lectern.reader.v1.ImportRosterResponse"]["properties"];
        assert!(
            event["report"]["description"].as_str().expect("text").contains("Only one of: progress, report")
        );
        let reasons = &schemas["Error"]["properties"]["reason"]["enum"];
        assert!(reasons.as_array().expect("reasons").contains(&json!("COPY_ALREADY_ON_LOAN")));
        assert!(!reasons.as_array().expect("reasons").contains(&json!("REASON_UNSPECIFIED")));
    }

    #[test]
    fn uploads_and_downloads_take_their_options_in_the_query() {
        let document = sample();
        let names = |operation: &Value| -> Vec<String> {
            let parameters = operation["parameters"].as_array().expect("parameters");
            parameters.iter().map(|parameter| parameter["name"].as_str().expect("name").to_owned()).collect()
        };
        let import = &document["paths"]["/api/upload/lectern.catalog.v1.MarcService/ImportMarc"]["post"];
        assert!(
            names(import).contains(&"dryRun".to_owned()) && names(import).contains(&"schoolId".to_owned())
        );
        assert!(import["responses"]["200"]["content"]["application/x-ndjson"].is_object());
        let roster = &document["paths"]["/api/upload/lectern.reader.v1.RosterService/ImportRoster"]["post"];
        assert!(names(roster).contains(&"apply".to_owned()) && !names(roster).contains(&"files".to_owned()));
        let export = &document["paths"]["/api/download/lectern.catalog.v1.MarcService/ExportMarc"]["get"];
        assert_eq!(names(export), ["schoolId", "format"]);
        assert_eq!(
            export["responses"]["200"]["content"]["application/octet-stream"]["schema"]["format"],
            "binary"
        );
    }

    #[test]
    fn login_needs_no_token() {
        let document = sample();
        let login = &document["paths"]["/api/lectern.gateway.v1.GatewayService/Login"]["post"];
        assert_eq!(login["security"], json!([]));
        assert_eq!(document["components"]["securitySchemes"]["cookie"]["name"], "lectern_session");
    }
}
