//! `cargo xtask tidy`: the machine-checkable architecture invariants of docs/architecture.md.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// For each layer crate, the workspace crates it may depend on, and external crates it must not use.
const LAYER_RULES: &[(&str, &[&str], &[&str])] = &[
    ("dime-nn", &[], &[]),
    ("dime-diffusion", &["dime-nn"], &[]),
    ("dime-critic", &["dime-nn"], &[]),
    ("dime-envs", &[], &["candle-core", "candle-nn", "candle-transformers", "tch", "burn", "ndarray"]),
    ("dime-algos", &["dime-nn", "dime-diffusion", "dime-critic", "dime-envs"], &[]),
];

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    workspace_members: Vec<String>,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    id: String,
    manifest_path: String,
    dependencies: Vec<Dependency>,
}

#[derive(Deserialize)]
struct Dependency {
    name: String,
    kind: Option<String>,
}

pub fn run(root: &Path) -> Result<()> {
    let mut problems = Vec::new();
    let metadata = read_metadata(root)?;
    check_layers(&metadata, &mut problems);
    for pkg in metadata.packages.iter().filter(|p| metadata.workspace_members.contains(&p.id)) {
        check_pinned_once(Path::new(&pkg.manifest_path), &pkg.name, &mut problems)?;
    }
    check_docs_paths(root, &mut problems)?;
    if problems.is_empty() {
        println!("tidy: ok");
        Ok(())
    } else {
        for p in &problems {
            eprintln!("tidy: {p}");
        }
        bail!("tidy found {} problem(s)", problems.len())
    }
}

fn read_metadata(root: &Path) -> Result<Metadata> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .context("could not run cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    serde_json::from_slice(&out.stdout).context("cargo metadata printed unexpected JSON")
}

/// Crate graph rules: each layer uses only the layers below it; `dime-envs` uses no tensor library.
fn check_layers(metadata: &Metadata, problems: &mut Vec<String>) {
    let workspace: BTreeSet<&str> = metadata.packages.iter().map(|p| p.name.as_str()).collect();
    for &(name, allowed, forbidden) in LAYER_RULES {
        let Some(pkg) = metadata.packages.iter().find(|p| p.name == name) else {
            problems.push(format!("crate `{name}` is missing from the workspace"));
            continue;
        };
        for dep in &pkg.dependencies {
            let dev = dep.kind.as_deref() == Some("dev");
            if workspace.contains(dep.name.as_str()) && !allowed.contains(&dep.name.as_str()) && !dev {
                problems.push(format!("`{name}` depends on `{}`, which the layering forbids", dep.name));
            }
            if forbidden.contains(&dep.name.as_str()) {
                problems.push(format!("`{name}` depends on `{}`, which the design forbids for it", dep.name));
            }
        }
    }
}

/// Every dependency of a member names `workspace = true`, so versions are pinned once in the root.
fn check_pinned_once(manifest: &Path, name: &str, problems: &mut Vec<String>) -> Result<()> {
    let text = std::fs::read_to_string(manifest).with_context(|| format!("reading {}", manifest.display()))?;
    let doc: toml::Table = text.parse().with_context(|| format!("parsing {}", manifest.display()))?;
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        let Some(deps) = doc.get(section).and_then(|d| d.as_table()) else { continue };
        for (dep, spec) in deps {
            let pinned = spec.as_table().and_then(|t| t.get("workspace")).and_then(|w| w.as_bool()) == Some(true);
            if !pinned {
                problems.push(format!(
                    "`{name}` [{section}] `{dep}` is not `workspace = true`; pin it once in [workspace.dependencies]"
                ));
            }
        }
    }
    Ok(())
}

/// Top-level names whose mention in backticks marks a repository path.
const PATH_ROOTS: &[&str] = &["crates", "xtask", "docs", "tests", "src", ".ci", ".cargo", "README.md", "Cargo.toml"];

/// Paths named in `docs/**/*.md` (in backticks, or as relative links) must exist.
fn check_docs_paths(root: &Path, problems: &mut Vec<String>) -> Result<()> {
    let mut files = Vec::new();
    collect_markdown(&root.join("docs"), &mut files)?;
    for file in files {
        let text = std::fs::read_to_string(&file)?;
        let rel = file.strip_prefix(root).unwrap_or(&file).display().to_string();
        for (line_no, line) in text.lines().enumerate() {
            for (candidate, is_link) in path_candidates(line) {
                // Links resolve from the file's folder, backticked paths from the repository root.
                let base = if is_link { file.parent().unwrap_or(root).to_path_buf() } else { root.to_path_buf() };
                let target = candidate.split('#').next().unwrap_or(&candidate).trim_end_matches('/');
                if !target.is_empty() && !target.contains('*') && !base.join(target).exists() {
                    problems.push(format!("{rel}:{}: names `{candidate}`, which does not exist", line_no + 1));
                }
            }
        }
    }
    Ok(())
}

fn collect_markdown(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_markdown(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    out.sort();
    Ok(())
}

/// Backticked spans that start with a repository root name (`false`), and relative markdown link targets (`true`).
fn path_candidates(line: &str) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    for (i, span) in line.split('`').enumerate() {
        let first = span.split('/').next().unwrap_or("");
        let pathlike = !span.contains(char::is_whitespace) && !span.contains("::");
        if i % 2 == 1 && pathlike && PATH_ROOTS.contains(&first) {
            found.push((span.to_string(), false));
        }
    }
    let mut rest = line;
    while let Some(start) = rest.find("](") {
        let after = &rest[start + 2..];
        let Some(end) = after.find(')') else { break };
        let target = &after[..end];
        if !target.contains("://") && !target.starts_with('#') && !target.starts_with("mailto:") {
            found.push((target.to_string(), true));
        }
        rest = &after[end..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::path_candidates;

    #[test]
    fn finds_backticked_repo_paths_and_relative_links_but_not_task_ids() {
        let line = "see `crates/dime-envs/src/lib.rs`, `gym/Pendulum-v1`, `dime_envs::make` and [arch](architecture.md) [web](https://x.y)";
        let expected = vec![("crates/dime-envs/src/lib.rs".to_string(), false), ("architecture.md".to_string(), true)];
        assert_eq!(path_candidates(line), expected);
    }
}
