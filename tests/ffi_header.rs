//! `include/ecpa.h` is what the pinned cbindgen makes of `src/ffi` plus the error-code enum
//! generated from `ErrorCode::ALL`: this test regenerates it in memory and fails on any
//! difference from the committed file.
//!
//! After changing the C ABI or the error table, regenerate the committed header with
//! `ECPA_BLESS=1 cargo test --features ffi --test ffi_header`.
#![cfg(feature = "ffi")]

use ecpa::ErrorCode;
use ecpa::types::Lang;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The error codes as a C enum, each with its English and zh-TW message as its comment.
fn error_code_enum() -> String {
    let mut s = String::from(
        "/*\n * The stable error codes every function returns (0 = ECPA_OK). A number never changes\n \
         * meaning; ecpa_error_message() gives the message in zh-TW or English.\n */\n\
         enum ecpa_code {\n    /* Success. 成功 */\n    ECPA_CODE_OK = 0,\n",
    );
    for code in ErrorCode::ALL {
        s.push_str(&format!(
            "    /* {} {} */\n    ECPA_E_{} = {},\n",
            code.message(Lang::En).replace("*/", "* /"),
            code.message(Lang::ZhTw).replace("*/", "* /"),
            code.name().to_uppercase(),
            code.number()
        ));
    }
    s.push_str("};\n");
    s
}

fn generate() -> String {
    let mut config = cbindgen::Config::from_file(format!("{ROOT}/cbindgen.toml")).expect("cbindgen.toml reads");
    config.after_includes = Some(error_code_enum());
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(format!("{ROOT}/src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("UTF-8 header")
}

#[test]
fn the_committed_header_is_what_cbindgen_generates() {
    let generated = generate();
    let path = format!("{ROOT}/include/ecpa.h");
    if std::env::var_os("ECPA_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write include/ecpa.h");
    }
    let committed = std::fs::read_to_string(&path).expect("include/ecpa.h is committed");
    assert!(
        generated == committed,
        "include/ecpa.h differs from what cbindgen generates: regenerate it with \
         ECPA_BLESS=1 cargo test --features ffi --test ffi_header"
    );
}

#[test]
fn every_error_code_and_every_export_is_in_the_header() {
    let header = generate();
    for code in ErrorCode::ALL {
        let line = format!("ECPA_E_{} = {},", code.name().to_uppercase(), code.number());
        assert!(header.contains(&line), "{line} missing");
    }
    // Every `#[unsafe(no_mangle)]` function of src/ffi is declared.
    for file in ["mod.rs", "portal.rs", "flow.rs", "card.rs"] {
        let src = std::fs::read_to_string(format!("{ROOT}/src/ffi/{file}")).expect("source");
        for name in src
            .split("extern \"C\" fn ")
            .skip(1)
            .filter_map(|rest| rest.split('(').next())
        {
            assert!(
                header.contains(&format!("{name}(")),
                "{name} is not declared in the header"
            );
        }
    }
    for handle in [
        "ecpa_portal",
        "ecpa_session",
        "ecpa_nhi_card",
        "ecpa_signer",
        "ecpa_trust",
    ] {
        assert!(
            header.contains(&format!("typedef struct {handle} {handle};")),
            "{handle} is not an opaque type"
        );
    }
}
