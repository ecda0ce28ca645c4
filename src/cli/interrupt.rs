//! Ctrl-C (SIGINT) during `apogrid run`: stop at once, but leave the store as a kill would and
//! tidier: finished tasks are committed (a commit is one rename), running ones are abandoned
//! (a training run keeps its last finished epoch in `.partial/` and resumes from it), this
//! run's temp folders are removed, the lock is released, and the user is told how far the grid
//! got and how to resume. Exit status 130, as shells expect after SIGINT.

use std::path::PathBuf;

use apogrid::store::Store;

/// Installs the handler for one run on `store`; `keys` are the plan's task keys.
pub fn install(store: &Store, keys: Vec<String>, resume: String) -> anyhow::Result<()> {
    let store = store.clone();
    ctrlc::set_handler(move || {
        let done = keys.iter().filter(|k| store.is_done(k)).count();
        remove_own_temp_folders(&store.root().join(".tmp"));
        let _ = std::fs::remove_file(store.root().join("LOCK"));
        eprintln!(
            "\ninterrupted: {done} of {} tasks are done and kept; tasks that were running are abandoned \
             (training resumes from its last finished epoch). Resume with: {resume}",
            keys.len()
        );
        std::process::exit(130);
    })?;
    Ok(())
}

/// `.tmp/<key>.<pid>` folders of this process.
fn remove_own_temp_folders(tmp: &std::path::Path) {
    let suffix = format!(".{}", std::process::id());
    let entries = std::fs::read_dir(tmp).into_iter().flatten().flatten();
    let own: Vec<PathBuf> = entries.map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with(&suffix)).collect();
    for p in own {
        let _ = std::fs::remove_dir_all(p);
    }
}
