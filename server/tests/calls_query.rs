//! `GET /api/v1/calls` and `GET /api/v1/calls/export.csv` read their query string into the type
//! the OpenAPI document describes, `app::api::calls::CallsQuery`: the document's parameters are
//! the fields serde reads, every documented parameter is read and checked by both routes (a bad
//! value answers 422 `invalid_field` naming it), and any other name is ignored.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;

use serde::de::{self, Deserialize, Visitor};
use serde_json::Value;
use utoipa::{openapi::path::ParameterIn, IntoParams};

use app::api::calls::CallsQuery;
use support::{api::sign_in, create_org, create_user, TestApp};

/// The operations that take a [`CallsQuery`], by operation id, with their paths.
const OPERATIONS: [(&str, &str); 2] = [
    ("list_calls", "/calls"),
    ("export_calls_csv", "/calls/export.csv"),
];

/// `org` names the organisation staff act for; the caller extractor reads it, not the query.
const CALLER_PARAMETERS: [&str; 1] = ["org"];

/// A value each parameter refuses. One that reads as text but not as the documented type
/// (`ten` for an integer) makes sure the value is checked by the handler, with the parameter
/// named, rather than refused whole by the query-string parser.
fn invalid_value(parameter: &str) -> &'static str {
    match parameter {
        "from" | "to" => "yesterday",
        "direction" => "sideways",
        "result" => "dropped",
        "number" => "4930901820",
        "service" => "",
        "country" => "XX",
        "min_mos" => "good",
        "limit" => "ten",
        "cursor" => "garbage!",
        other => panic!("a new calls parameter, {other:?}: add a value it refuses here"),
    }
}

/// The field names serde reads into `T`, as its derived `Deserialize` names them to a
/// self-describing format (renames applied, skipped fields left out).
fn serde_fields<'de, T: Deserialize<'de>>() -> BTreeSet<&'static str> {
    struct Fields<'a>(&'a mut &'static [&'static str]);

    impl<'de> de::Deserializer<'de> for Fields<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("only the field names were wanted"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Fields(&mut fields));
    fields.iter().copied().collect()
}

/// The query parameters the document gives the operation `id`, the caller's aside.
fn documented(doc: &Value, id: &str, path: &str) -> BTreeSet<String> {
    let op = &doc["paths"][path]["get"];
    assert_eq!(op["operationId"], id, "{path}");
    op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap().to_string())
        .filter(|name| !CALLER_PARAMETERS.contains(&name.as_str()))
        .collect()
}

#[test]
fn the_documented_parameters_are_the_fields_serde_reads() {
    let params: BTreeSet<String> = CallsQuery::into_params(|| Some(ParameterIn::Query))
        .into_iter()
        .map(|p| p.name)
        .collect();
    let fields: BTreeSet<String> = serde_fields::<CallsQuery>()
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(params, fields);
    assert!(fields.contains("limit"), "{fields:?}");
}

#[tokio::test]
async fn both_routes_read_and_check_every_documented_parameter_and_nothing_else() {
    let app = TestApp::new().await;
    let doc = app.get("/api/v1/openapi.json").await.json();
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let cookie = sign_in(&app, "admin@contoso.example").await;

    let fields: BTreeSet<String> = serde_fields::<CallsQuery>()
        .into_iter()
        .map(String::from)
        .collect();
    for (id, path) in OPERATIONS {
        let params = documented(&doc, id, path);
        assert_eq!(
            params, fields,
            "{id}: the document and the query type differ"
        );
        for name in &params {
            let query = format!("{name}={}", invalid_value(name));
            let res = app
                .get_with(&format!("/api/v1{path}?{query}"), &cookie)
                .await;
            assert_eq!(res.status, 422, "{id} {query}: {}", res.text());
            let v = res.json();
            assert_eq!(v["error"]["code"], "invalid_field", "{id} {query}: {v}");
            assert_eq!(v["error"]["field"], name.as_str(), "{id} {query}: {v}");
        }
        // A name the document does not give is not read, whatever its value.
        let res = app
            .get_with(&format!("/api/v1{path}?page=-1&min_mo=good"), &cookie)
            .await;
        assert_eq!(res.status, 200, "{id}: {}", res.text());
    }
}
