use std::collections::BTreeMap;

use super::*;

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// Providers `file`, `directory` and `env` with the given extra worker keys.
fn providers(extra: &[(&str, &str)], vars: &[(&str, &str)]) -> ConnectResult<ConfigProviders> {
    let mut p = props(&[
        ("config.providers", "file, directory,env"),
        ("config.providers.file.class", FILE_CONFIG_PROVIDER),
        ("config.providers.directory.class", DIRECTORY_CONFIG_PROVIDER),
        ("config.providers.env.class", ENV_VAR_CONFIG_PROVIDER),
    ]);
    p.extend(props(extra));
    ConfigProviders::from_worker_props_with_env(&p, env(vars))
}

fn secrets_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("db.properties"), "user=admin\npassword=s3cr3t-pw\nurl=jdbc:x://h:1/${db}\n")
        .unwrap();
    std::fs::create_dir(dir.path().join("mounted")).unwrap();
    std::fs::write(dir.path().join("mounted").join("token"), "tok-123\n").unwrap();
    dir
}

fn config_error(e: ConnectError) -> ConfigErrors {
    match e {
        ConnectError::Config(c) => c,
        other => panic!("expected a config error, got {other}"),
    }
}

#[test]
fn pattern_is_kafkas() {
    let v: Vec<_> =
        variables("${file:/a/b.properties:k:x} ${env:NAME} ${p::k}").map(|v| (v.provider, v.path, v.key)).collect();
    assert_eq!(v, [("file", "/a/b.properties", "k:x"), ("env", "", "NAME"), ("p", "", "k")]);
    assert!(has_variables("x${env:A}y"));
    assert!(!has_variables("${nocolon}"));
    assert!(!has_variables("$env:A}"));
}

#[test]
fn resolves_file_directory_and_env() {
    let dir = secrets_dir();
    let d = dir.path().display();
    let p = providers(&[], &[("DB_HOST", "db.local"), ("OTHER", "o")]).unwrap();
    let raw = props(&[
        ("connection.password", &format!("${{file:{d}/db.properties:password}}")),
        ("token", &format!("${{directory:{d}/mounted:token}}")),
        ("connection.url", "jdbc:postgresql://${env:DB_HOST}:5432/db"),
        ("plain", "no variables"),
    ]);
    let resolved = p.resolve(&raw).unwrap();
    assert_eq!(resolved["connection.password"], "s3cr3t-pw");
    // Kafka reads the whole file, trailing newline included.
    assert_eq!(resolved["token"], "tok-123\n");
    assert_eq!(resolved["connection.url"], "jdbc:postgresql://db.local:5432/db");
    assert_eq!(resolved["plain"], "no variables");
}

#[test]
fn several_variables_and_text_in_one_value() {
    let dir = secrets_dir();
    let d = dir.path().display();
    let p = providers(&[], &[("H", "host"), ("P", "5432")]).unwrap();
    let raw = props(&[("url", &format!("u=${{file:{d}/db.properties:user}}@${{env:H}}:${{env:P}}/x"))]);
    assert_eq!(p.resolve(&raw).unwrap()["url"], "u=admin@host:5432/x");
}

#[test]
fn resolved_values_are_not_resolved_again() {
    let dir = secrets_dir();
    let d = dir.path().display();
    let p = providers(&[], &[("LOOKS_LIKE_VAR", "${env:SECRET}"), ("SECRET", "no")]).unwrap();
    let raw = props(&[("a", "${env:LOOKS_LIKE_VAR}"), ("b", &format!("${{file:{d}/db.properties:url}}"))]);
    let resolved = p.resolve(&raw).unwrap();
    assert_eq!(resolved["a"], "${env:SECRET}");
    assert_eq!(resolved["b"], "jdbc:x://h:1/${db}");
}

#[test]
fn unknown_providers_are_left_as_written() {
    let p = providers(&[], &[]).unwrap();
    let raw = props(&[("a", "${vault:secret/data:pw}"), ("b", "${nope:X} and ${also}")]);
    assert_eq!(p.resolve(&raw).unwrap(), raw);
    let none = ConfigProviders::from_worker_props_with_env(&BTreeMap::new(), env(&[])).unwrap();
    assert!(none.is_empty());
    let raw = props(&[("a", "${file:/etc/x:y}")]);
    assert_eq!(none.resolve(&raw).unwrap(), raw);
}

#[test]
fn missing_key_names_the_connector_key_and_variable_but_not_secrets() {
    let dir = secrets_dir();
    let d = dir.path().display();
    let p = providers(&[], &[]).unwrap();
    let var = format!("${{file:{d}/db.properties:passwd}}");
    let raw = props(&[("connection.password", &var), ("ok", &format!("${{file:{d}/db.properties:password}}"))]);
    let errs = config_error(p.resolve(&raw).unwrap_err());
    assert_eq!(errs.0.len(), 1);
    assert_eq!(errs.0[0].key, "connection.password");
    let msg = errs.to_string();
    assert!(msg.contains(&var), "{msg}");
    assert!(msg.contains("key 'passwd' not found"), "{msg}");
    assert!(!msg.contains("s3cr3t-pw") && !msg.contains("admin"), "{msg}");
}

#[test]
fn missing_file_directory_entry_and_env_var_are_errors() {
    let dir = secrets_dir();
    let d = dir.path().display();
    let p = providers(&[], &[("SET", "1")]).unwrap();
    let raw = props(&[
        ("a", &format!("${{file:{d}/nope.properties:k}}")),
        ("b", &format!("${{directory:{d}/mounted:nope}}")),
        ("c", "${env:UNSET}"),
        ("d", "${env:some/path:SET}"),
        ("e", &format!("${{directory:{d}/mounted:../db.properties}}")),
        ("f", "${file:password}"),
    ]);
    let errs = config_error(p.resolve(&raw).unwrap_err());
    let keys: Vec<&str> = errs.0.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["a", "b", "c", "d", "e", "f"]);
    let msg = errs.to_string();
    assert!(msg.contains("cannot read properties file"), "{msg}");
    assert!(msg.contains("no regular file named 'nope'"), "{msg}");
    assert!(msg.contains("environment variable 'UNSET' is not set"), "{msg}");
    assert!(msg.contains("path is not supported for EnvVarConfigProvider"), "{msg}");
    assert!(msg.contains("is not a file name"), "{msg}");
    assert!(msg.contains("needs a path"), "{msg}");
}

#[test]
fn allowed_paths_confine_file_and_directory_providers() {
    let dir = secrets_dir();
    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("x.properties"), "k=v\n").unwrap();
    let d = dir.path().display();
    let allowed = format!("{d}/mounted,{d}/db.properties");
    let p = providers(
        &[
            ("config.providers.file.param.allowed.paths", &allowed),
            ("config.providers.directory.param.allowed.paths", &allowed),
        ],
        &[],
    )
    .unwrap();
    let ok = props(&[
        ("a", &format!("${{file:{d}/./mounted/../db.properties:user}}")),
        ("b", &format!("${{directory:{d}/mounted:token}}")),
    ]);
    let resolved = p.resolve(&ok).unwrap();
    assert_eq!(resolved["a"], "admin");
    let escape = props(&[
        ("a", &format!("${{file:{d}/mounted/../../{}/x.properties:k}}", other.path().display())),
        ("b", &format!("${{file:{}/x.properties:k}}", other.path().display())),
    ]);
    let errs = config_error(p.resolve(&escape).unwrap_err());
    assert_eq!(errs.0.len(), 2);
    assert!(errs.to_string().contains("is not under config.providers.file.param.allowed.paths"), "{errs}");
}

#[test]
fn allowed_paths_must_be_absolute_and_exist() {
    let e = config_error(providers(&[("config.providers.file.param.allowed.paths", "relative/dir")], &[]).unwrap_err());
    assert_eq!(e.0[0].key, "config.providers.file.param.allowed.paths");
    assert!(e.0[0].message.contains("not absolute"));
    let e = config_error(
        providers(&[("config.providers.directory.param.allowed.paths", "/no/such/dir/anywhere")], &[]).unwrap_err(),
    );
    assert_eq!(e.0[0].key, "config.providers.directory.param.allowed.paths");
    assert!(e.0[0].message.contains("does not exist"));
}

#[test]
fn env_allowlist_pattern_must_match_whole_name() {
    let p =
        providers(&[("config.providers.env.param.allowlist.pattern", "DB_.*")], &[("DB_PW", "x"), ("MY_DB_PW", "y")])
            .unwrap();
    assert_eq!(p.resolve(&props(&[("a", "${env:DB_PW}")])).unwrap()["a"], "x");
    let errs = config_error(p.resolve(&props(&[("a", "${env:MY_DB_PW}")])).unwrap_err());
    assert!(errs.to_string().contains("allowlist.pattern"));
    let bad = config_error(providers(&[("config.providers.env.param.allowlist.pattern", "(")], &[]).unwrap_err());
    assert_eq!(bad.0[0].key, "config.providers.env.param.allowlist.pattern");
}

#[test]
fn provider_classes_are_checked() {
    let e = config_error(
        ConfigProviders::from_worker_props_with_env(
            &props(&[
                ("config.providers", "vault,file,x"),
                ("config.providers.vault.class", "com.example.VaultConfigProvider"),
                ("config.providers.file.class", "FileConfigProvider"),
            ]),
            env(&[]),
        )
        .unwrap_err(),
    );
    let keys: Vec<&str> = e.0.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["config.providers.vault.class", "config.providers.x.class"]);
    assert!(e.0[0].message.contains("unknown config provider class 'com.example.VaultConfigProvider'"));
    assert!(e.0[0].message.contains(ENV_VAR_CONFIG_PROVIDER));
    assert!(e.0[1].message.contains("has no class"));
}

#[test]
fn debug_shows_classes_not_values() {
    let p = providers(&[], &[("SECRET", "hunter2")]).unwrap();
    let dbg = format!("{p:?}");
    assert!(dbg.contains("EnvVarConfigProvider") && !dbg.contains("hunter2"), "{dbg}");
    assert_eq!(p.names().collect::<Vec<_>>(), ["directory", "env", "file"]);
}

#[test]
fn worker_props_resolve_except_provider_keys() {
    let dir = secrets_dir();
    let d = dir.path().display();
    let mut worker = props(&[
        ("config.providers", "file"),
        ("config.providers.file.class", FILE_CONFIG_PROVIDER),
        ("ssl.key.password", &format!("${{file:{d}/db.properties:password}}")),
    ]);
    let p = ConfigProviders::from_worker_props_with_env(&worker, env(&[])).unwrap();
    let resolved = p.resolve_worker(&worker).unwrap();
    assert_eq!(resolved["ssl.key.password"], "s3cr3t-pw");
    worker.remove("ssl.key.password");
    assert_eq!(p.resolve_worker(&worker).unwrap(), worker);
}

#[test]
fn reverse_transform_puts_placeholders_back() {
    let raw = props(&[
        ("connector.class", "FileStreamSource"),
        ("file", "${file:/s/p.properties:path}"),
        ("password", "pre-${env:PW}"),
        ("not.in.task", "${env:X}"),
    ]);
    let task = props(&[("file", "/data/in.txt"), ("password", "pre-secret"), ("task.only", "1")]);
    let shown = reverse_transform(&raw, &task);
    assert_eq!(
        shown,
        props(&[("file", "${file:/s/p.properties:path}"), ("password", "pre-${env:PW}"), ("task.only", "1")])
    );
}
