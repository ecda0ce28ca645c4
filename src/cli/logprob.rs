//! `apogrid logprob`: the log-probability a model gives a response after a prompt, token by
//! token. By default the prompt goes through the model's chat template and the response is
//! closed with its end-of-turn token, exactly as training scores it; `--raw` tokenizes both
//! texts as they are, adding nothing.

use anyhow::Context;
use burn::tensor::Device;

use apogrid::model::score::{ScoreBatch, Truncation, token_logps};
use apogrid::model::spec::{ModelSpec, load_model};
use apogrid::model::tokenizer::TextTokenizer;

#[derive(clap::Args)]
pub struct Args {
    /// Model SPEC: hf:DIR, gguf:FILE, smollm2 (run scripts/get-smollm2.sh first), tiny[:SEED].
    #[arg(long, default_value = "smollm2")]
    pub model: String,
    /// The user message (the conditioning text with --raw).
    #[arg(long)]
    pub prompt: String,
    /// The answer to score.
    #[arg(long)]
    pub response: String,
    /// No chat template and no special tokens: score `response` right after `prompt`.
    #[arg(long)]
    pub raw: bool,
    /// Print {"prompt_ids", "response_ids", "token_logps", "logp"} as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let spec: ModelSpec = args.model.parse()?;
    let m = load_model(&spec).with_context(|| format!("loading model {spec}"))?;
    let model = m.build(&Device::default()).with_context(|| format!("building model {spec}"))?;
    let (prompt_ids, response_ids) = if args.raw {
        (m.tokenizer.encode(&args.prompt), m.tokenizer.encode(&args.response))
    } else {
        m.prompt_text(&args.prompt)?;
        let enc = m.encoder();
        (enc.prompt(&args.prompt), enc.response(&args.response))
    };
    if response_ids.is_empty() {
        anyhow::bail!("the response encodes to no tokens: nothing to score");
    }
    // No truncation: the user asked about exactly these texts.
    let all = Truncation { max_prompt_tokens: usize::MAX, max_response_tokens: usize::MAX };
    let batch = ScoreBatch::from_ids(&[(&prompt_ids, &response_ids)], all, m.tokenizer.pad_id())?;
    let logps = token_logps(&model, &batch).remove(0);
    // With an empty prompt the first response token has nothing to condition on and is not scored.
    let scored = &response_ids[response_ids.len() - logps.len()..];
    let total: f64 = logps.iter().map(|&v| v as f64).sum();
    if args.json {
        let v = serde_json::json!({
            "prompt_ids": prompt_ids,
            "response_ids": response_ids,
            "token_logps": logps,
            "logp": total,
        });
        println!("{v}");
        return Ok(());
    }
    println!("{:>8}  {:>10}  token", "id", "logp");
    for (&id, &lp) in scored.iter().zip(&logps) {
        println!("{id:>8}  {lp:>10.4}  {:?}", m.tokenizer.decode_with_special(&[id]));
    }
    println!("sum logp = {total:.4} over {} tokens (prompt: {} tokens)", logps.len(), prompt_ids.len());
    Ok(())
}
