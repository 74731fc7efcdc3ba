//! Every route that takes query parameters reads them into the type the OpenAPI document
//! describes: the document's parameters are the fields serde reads, every documented
//! parameter a route uses is read and checked (a bad value answers 422 `invalid_field` naming
//! it), and any other name is ignored.
// Test helpers unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;

use serde::de::{self, Deserialize, Visitor};
use serde_json::Value;
use utoipa::{openapi::path::ParameterIn, IntoParams};

use app::api::{
    analytics::AnalyticsQuery, calls::CallsQuery, incidents::IncidentsQuery, services::ServiceQuery,
};
use support::{api::sign_in, create_org, create_user, voice::create_trunk, TestApp};

/// `org` names the organisation staff act for; the caller extractor reads it, not the query.
const CALLER_PARAMETERS: [&str; 1] = ["org"];

/// A route that reads a query type: its operation id, its path in the document, the path to
/// request (`{id}` filled in by the test) and the parameters it uses (the others of its type
/// belong to a sibling route that shares the type, and are documented as such).
struct Route {
    id: &'static str,
    path: &'static str,
    uses: &'static [&'static str],
}

/// What the calls list and its export both read.
const CALLS_PARAMETERS: &[&str] = &[
    "from",
    "to",
    "direction",
    "result",
    "number",
    "service",
    "country",
    "min_mos",
    "limit",
    "cursor",
];

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
        "status" => "sleeping",
        "kind" => "outage",
        "bucket" => "week",
        "by" => "colour",
        "compare" => "last_year",
        other => panic!("a new query parameter, {other:?}: add a value it refuses here"),
    }
}

/// The parameter names a query type gives the document.
fn param_names<T: IntoParams>() -> BTreeSet<String> {
    T::into_params(|| Some(ParameterIn::Query))
        .into_iter()
        .map(|p| p.name)
        .collect()
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

/// The serde fields of `T`, as owned names.
fn fields<'de, T: Deserialize<'de>>() -> BTreeSet<String> {
    serde_fields::<T>().into_iter().map(String::from).collect()
}

/// A query type: its name, the parameters it documents, the fields serde reads into it, and
/// the routes that read it.
struct QueryType {
    name: &'static str,
    params: BTreeSet<String>,
    fields: BTreeSet<String>,
    routes: Vec<Route>,
}

/// Each query type with the routes that read it.
fn query_types() -> Vec<QueryType> {
    vec![
        QueryType {
            name: "CallsQuery",
            params: param_names::<CallsQuery>(),
            fields: fields::<CallsQuery>(),
            routes: vec![
                Route {
                    id: "list_calls",
                    path: "/calls",
                    uses: CALLS_PARAMETERS,
                },
                Route {
                    id: "export_calls_csv",
                    path: "/calls/export.csv",
                    uses: CALLS_PARAMETERS,
                },
            ],
        },
        QueryType {
            name: "IncidentsQuery",
            params: param_names::<IncidentsQuery>(),
            fields: fields::<IncidentsQuery>(),
            routes: vec![Route {
                id: "list_incidents",
                path: "/incidents",
                uses: &["status", "from", "to", "kind", "limit"],
            }],
        },
        QueryType {
            name: "AnalyticsQuery",
            params: param_names::<AnalyticsQuery>(),
            fields: fields::<AnalyticsQuery>(),
            routes: vec![
                Route {
                    id: "analytics_summary",
                    path: "/analytics/summary",
                    uses: &["from", "to", "service", "compare"],
                },
                Route {
                    id: "analytics_timeseries",
                    path: "/analytics/timeseries",
                    uses: &["from", "to", "bucket", "by"],
                },
            ],
        },
        QueryType {
            name: "ServiceQuery",
            params: param_names::<ServiceQuery>(),
            fields: fields::<ServiceQuery>(),
            routes: vec![Route {
                id: "get_service",
                path: "/services/{id}",
                uses: &["from", "to", "bucket"],
            }],
        },
    ]
}

#[test]
fn the_documented_parameters_are_the_fields_serde_reads() {
    for QueryType {
        name,
        params,
        fields,
        ..
    } in query_types()
    {
        assert_eq!(params, fields, "{name}");
        assert!(!fields.is_empty(), "{name}");
    }
}

#[tokio::test]
async fn every_route_reads_and_checks_its_documented_parameters_and_nothing_else() {
    let app = TestApp::new().await;
    let doc = app.get("/api/v1/openapi.json").await.json();
    create_org(&app.db.db, "contoso").await;
    create_user(&app.db.db, "contoso", "admin@contoso.example", "admin").await;
    let service = create_trunk(&app, "contoso", "Trunk A", 30).await;
    let cookie = sign_in(&app, "admin@contoso.example").await;

    for QueryType {
        name,
        fields,
        routes,
        ..
    } in query_types()
    {
        for Route { id, path, uses } in routes {
            let params = documented(&doc, id, path);
            assert_eq!(params, fields, "{id}: the document and {name} differ");
            let request_path = path.replace("{id}", &service);
            for parameter in uses {
                assert!(params.contains(*parameter), "{id} uses {parameter}");
                let query = format!("{parameter}={}", invalid_value(parameter));
                let res = app
                    .get_with(&format!("/api/v1{request_path}?{query}"), &cookie)
                    .await;
                assert_eq!(res.status, 422, "{id} {query}: {}", res.text());
                let v = res.json();
                assert_eq!(v["error"]["code"], "invalid_field", "{id} {query}: {v}");
                assert_eq!(v["error"]["field"], *parameter, "{id} {query}: {v}");
            }
            // A name the document does not give is not read, whatever its value.
            let res = app
                .get_with(
                    &format!("/api/v1{request_path}?page=-1&min_mo=good"),
                    &cookie,
                )
                .await;
            assert_eq!(res.status, 200, "{id}: {}", res.text());
        }
    }
}
