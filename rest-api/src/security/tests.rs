use std::io::Write;

use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use tower::ServiceExt;

use super::*;

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }
    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::File::create(&path).unwrap().write_all(text.as_bytes()).unwrap();
        path.display().to_string()
    }
    fn jaas(&self, credentials: &str) -> String {
        let creds = self.write("credentials.properties", credentials);
        self.write(
            "jaas.conf",
            &format!("KafkaConnect {{\n  {} required\n  file=\"{creds}\";\n}};\n", jaas::PROPERTY_FILE_LOGIN_MODULE),
        )
    }
}

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

async fn call(router: &Router, auth: Option<&str>) -> (StatusCode, Option<String>, serde_json::Value) {
    let mut req = Request::builder().uri("/connectors");
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    let resp = router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let challenge = resp.headers().get(header::WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, challenge, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

fn app(security: &RestSecurity) -> Router {
    secure(Router::new().route("/connectors", get(|| async { axum::Json(serde_json::json!(["a"])) })), security)
}

#[tokio::test]
async fn basic_auth_as_kafka_connect() {
    let f = Files::new();
    let jaas = f.jaas("admin: adm1n-pw\nops=0ps:with:colons\n");
    let security = RestSecurity::from_worker_props(
        &props(&[(REST_EXTENSION_CLASSES, BASIC_AUTH_EXTENSION), (JAAS_CONFIG_FILE, &jaas)]),
        None,
    )
    .unwrap();
    assert!(security.describe().starts_with("basic auth (2 users from "));
    let router = app(&security);
    assert_eq!(call(&router, Some(&basic("admin", "adm1n-pw"))).await.0, StatusCode::OK);
    assert_eq!(call(&router, Some(&basic("ops", "0ps:with:colons"))).await.0, StatusCode::OK);
    assert_eq!(call(&router, Some(&basic("admin", "0ps:with:colons"))).await.0, StatusCode::UNAUTHORIZED);
    for bad in [None, Some("Basic !!!"), Some("Basic"), Some("Bearer x"), Some(basic("nobody", "adm1n-pw").as_str())] {
        let (status, challenge, body) = call(&router, bad).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad:?}");
        assert_eq!(challenge.as_deref(), Some("Basic realm=\"Kafka Connect\""));
        assert_eq!(body, serde_json::json!({"error_code": 401, "message": "User cannot access the resource."}));
    }
    assert_eq!(call(&router, Some(&basic("admin", "adm1n-pw").replace("Basic", "basic"))).await.0, StatusCode::OK);
}

#[tokio::test]
async fn jaas_file_from_kafka_opts_and_worker_key_wins() {
    let f = Files::new();
    let jaas = f.jaas("u=p\n");
    let worker = props(&[(REST_EXTENSION_CLASSES, "BasicAuthSecurityRestExtension")]);
    let opts = format!("-Xmx1g {JAAS_JVM_FLAG}{jaas} -Dother=1");
    let s = RestSecurity::from_worker_props(&worker, Some(&opts)).unwrap();
    assert!(s.authorize(&headers(&basic("u", "p"))));
    let mut with_key = worker.clone();
    with_key.insert(JAAS_CONFIG_FILE.into(), "/no/such/jaas.conf".into());
    let e = RestSecurity::from_worker_props(&with_key, Some(&opts)).unwrap_err().to_string();
    assert!(e.contains(JAAS_CONFIG_FILE) && e.contains("cannot read JAAS file /no/such/jaas.conf"), "{e}");
    let e = RestSecurity::from_worker_props(&worker, Some("-Xmx1g")).unwrap_err().to_string();
    assert!(e.contains("needs a JAAS file"), "{e}");
}

fn headers(auth: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
    h
}

#[tokio::test]
async fn bearer_tokens_alone_or_with_basic() {
    let f = Files::new();
    let tokens = f.write("tokens", "# ops team\n tok-one \n\ntok-two\n");
    let s = RestSecurity::from_worker_props(&props(&[(BEARER_TOKENS_FILE, &tokens)]), None).unwrap();
    let bearer_only = app(&s);
    let app_ = &bearer_only;
    assert_eq!(call(app_, Some("Bearer tok-one")).await.0, StatusCode::OK);
    assert_eq!(call(app_, Some("bearer tok-two")).await.0, StatusCode::OK);
    let (status, challenge, _) = call(app_, Some("Bearer tok-three")).await;
    assert_eq!((status, challenge.as_deref()), (StatusCode::UNAUTHORIZED, Some("Bearer")));
    assert_eq!(call(app_, Some("Bearer # ops team")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(call(app_, Some(&basic("u", "p"))).await.0, StatusCode::UNAUTHORIZED);

    let jaas = f.jaas("u=p\n");
    let both = RestSecurity::from_worker_props(
        &props(&[
            (REST_EXTENSION_CLASSES, BASIC_AUTH_EXTENSION),
            (JAAS_CONFIG_FILE, &jaas),
            (BEARER_TOKENS_FILE, &tokens),
        ]),
        None,
    )
    .unwrap();
    let both = app(&both);
    assert_eq!(call(&both, Some("Bearer tok-one")).await.0, StatusCode::OK);
    assert_eq!(call(&both, Some(&basic("u", "p"))).await.0, StatusCode::OK);
    assert_eq!(call(&both, None).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn no_security_and_empty_credentials_let_everyone_in() {
    let none = RestSecurity::from_worker_props(&BTreeMap::new(), None).unwrap();
    assert!(!none.is_enabled());
    assert_eq!(call(&app(&none), None).await.0, StatusCode::OK);
    let f = Files::new();
    let jaas = f.jaas("# nobody yet\n");
    let open = RestSecurity::from_worker_props(
        &props(&[(REST_EXTENSION_CLASSES, BASIC_AUTH_EXTENSION), (JAAS_CONFIG_FILE, &jaas)]),
        None,
    )
    .unwrap();
    assert_eq!(open.warnings().len(), 1);
    assert_eq!(call(&app(&open), None).await.0, StatusCode::OK);
}

#[test]
fn bad_settings_name_their_key() {
    let f = Files::new();
    let e = RestSecurity::from_worker_props(&props(&[(REST_EXTENSION_CLASSES, "com.example.MyExtension")]), None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(REST_EXTENSION_CLASSES)
            && e.contains("unknown REST extension class")
            && e.contains(BASIC_AUTH_EXTENSION)
    );
    let empty = f.write("empty-tokens", "\n# none\n");
    let e = RestSecurity::from_worker_props(&props(&[(BEARER_TOKENS_FILE, &empty)]), None).unwrap_err().to_string();
    assert!(e.contains(BEARER_TOKENS_FILE) && e.contains("holds no token"), "{e}");
    let jaas = f.write("jaas.conf", "KafkaConnect { org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required file=\"/no/creds\"; };");
    let e = RestSecurity::from_worker_props(
        &props(&[(REST_EXTENSION_CLASSES, BASIC_AUTH_EXTENSION), (JAAS_CONFIG_FILE, &jaas)]),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("cannot read credentials file /no/creds"), "{e}");
}

#[test]
fn debug_never_shows_secrets() {
    let f = Files::new();
    let jaas = f.jaas("admin=hunter2\n");
    let tokens = f.write("tokens", "tok-secret\n");
    let s = RestSecurity::from_worker_props(
        &props(&[
            (REST_EXTENSION_CLASSES, BASIC_AUTH_EXTENSION),
            (JAAS_CONFIG_FILE, &jaas),
            (BEARER_TOKENS_FILE, &tokens),
        ]),
        None,
    )
    .unwrap();
    let dbg = format!("{s:?}");
    assert!(!dbg.contains("hunter2") && !dbg.contains("tok-secret") && !dbg.contains("admin"), "{dbg}");
}

#[test]
fn kafka_opts_flag_parsing() {
    assert_eq!(jaas_flag("-Djava.security.auth.login.config=/a/jaas.conf").as_deref(), Some("/a/jaas.conf"));
    assert_eq!(jaas_flag("-Xms1g \"-Djava.security.auth.login.config=/b c\"").as_deref(), Some("/b"));
    assert_eq!(jaas_flag("-Djava.security.auth.login.config='/q.conf' -X").as_deref(), Some("/q.conf"));
    assert_eq!(jaas_flag("-Xmx1g"), None);
}
