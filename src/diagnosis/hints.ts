import type { Writer } from '../logs/settings';
import type { Context } from './context';
import { formatNumber } from './stats';
import type { Hint } from './types';

/** What a hint needs to know about the run: who wrote it, what is on, and what a threshold can be taken from. */
type Voice = Pick<Context, 'writer' | 'advice' | 'clipping'>;

/** Norm clipping at τ, as a user of each tool turns it on. */
function clipLine(writer: Writer, tau: string): string {
  switch (writer) {
    case 'hf-trainer':
      return `set max_grad_norm=${tau} in TrainingArguments (the Trainer clips the global norm before every optimizer step)`;
    case 'lightning':
      return `pass Trainer(gradient_clip_val=${tau}, gradient_clip_algorithm="norm")`;
    case 'keras':
      return `give the optimizer global_clipnorm=${tau} (keras.optimizers.Adam(learning_rate=..., global_clipnorm=${tau})); clipnorm=${tau} clips each variable's gradient on its own`;
    case 'optax':
      return `chain the clip before the optimizer: optax.chain(optax.clip_by_global_norm(${tau}), optax.adamw(...))`;
    case 'megatron':
      return `pass --clip-grad ${tau}`;
    case 'deepspeed':
      return `set "gradient_clipping": ${tau} in the DeepSpeed config`;
    case 'fairseq':
      return `pass --clip-norm ${tau} to fairseq-train (optimization.clip_norm in a Hydra config; 0 turns clipping off)`;
    case 'mmengine':
      return `add clip_grad=dict(max_norm=${tau}, norm_type=2) to optim_wrapper in the config (optim_wrapper = dict(optimizer=..., clip_grad=dict(max_norm=${tau}, norm_type=2)))`;
    case 'torchtitan':
      return `set max_norm = ${tau} under [training] in the job's TOML (or pass --training.max_norm ${tau})`;
    case 'nanogpt':
      return `set grad_clip = ${tau} in the config (0.0 turns clipping off)`;
    case 'llm.c':
      return `set grad_clip to ${tau} in train_gpt2`;
    case 'pytorch':
      return `clip between backward() and optimizer.step(): torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=${tau})`;
  }
}

/** The name of the clip threshold in each tool. */
export function clipName(writer: Writer): string {
  const names: Record<Writer, string> = {
    'hf-trainer': 'max_grad_norm',
    lightning: 'gradient_clip_val',
    keras: 'global_clipnorm',
    optax: "clip_by_global_norm's max_norm",
    megatron: '--clip-grad',
    deepspeed: 'gradient_clipping',
    fairseq: '--clip-norm',
    mmengine: "clip_grad's max_norm",
    torchtitan: 'training.max_norm',
    nanogpt: 'grad_clip',
    'llm.c': 'grad_clip',
    pytorch: 'max_norm',
  };
  return names[writer];
}

/** The clip threshold's name, and where it is set when that is not obvious from the name. */
function clipSetting(writer: Writer): string {
  const where: Partial<Record<Writer, string>> = { 'hf-trainer': ' in TrainingArguments', lightning: ' in Trainer(...)', mmengine: ' in optim_wrapper' };
  return `${clipName(writer)}${where[writer] ?? ''}`;
}

/** Where the advised threshold comes from. */
function basisText(voice: Voice): string {
  const basis = voice.advice.basis;
  return basis ? ` (the 95th percentile of the stable stretch, steps ${basis.fromStep}–${basis.toStep})` : '';
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** Where each tool sets its learning rate. */
const LR_SETTING: Partial<Record<Writer, string>> = {
  'hf-trainer': 'learning_rate in TrainingArguments',
  lightning: 'the learning rate configure_optimizers() gives the optimizer',
  keras: "the optimizer's learning_rate",
  megatron: '--lr',
  deepspeed: 'the optimizer\'s "lr" in the DeepSpeed config',
  fairseq: '--lr',
  mmengine: "the optimizer's lr in optim_wrapper",
  torchtitan: 'lr under [optimizer] (--optimizer.lr)',
  nanogpt: 'learning_rate in the config',
};

/** Zero-code instrumentation: the user's own script, run under GradLens's bootstrap. */
const RUN_WITH_LOGGING = 'gradlens run -- python train.py … (GradLens: Run Training Script with Gradient Logging) logs them without changing the script';

/** How a user of each tool logs the gradient norm of every parameter. */
const LOG_GRADIENTS: Record<Writer, string> = {
  'hf-trainer': `the Trainer logs only the total; ${RUN_WITH_LOGGING}`,
  lightning: 'in the LightningModule, def on_before_optimizer_step(self, optimizer): self.log_dict(grad_norm(self, norm_type=2)), with from lightning.pytorch.utilities import grad_norm',
  keras: 'in a custom train_step, take grads = tape.gradient(loss, self.trainable_variables) and return tf.norm(g) for each variable beside tf.linalg.global_norm(grads) in the metrics',
  optax: 'jax.tree_util.tree_map(jnp.linalg.norm, grads) beside optax.global_norm(grads), logged each step',
  megatron: RUN_WITH_LOGGING,
  deepspeed: `under ZeRO each parameter's full gradient is deepspeed.utils.safe_get_full_grad(param) after backward; or ${RUN_WITH_LOGGING}`,
  fairseq: RUN_WITH_LOGGING,
  mmengine: RUN_WITH_LOGGING,
  torchtitan: "torchtitan logs only the total; in train.py's train_step, before dist_utils.clip_grad_norm_, log p.grad.full_tensor().norm() for each of model.named_parameters() (FSDP shards them)",
  nanogpt: RUN_WITH_LOGGING,
  'llm.c': 'print the norm of each parameter tensor\'s gradient next to the global one train_gpt2 computes for grad_clip',
  pytorch: `GradLens: Insert Gradient Logger adds the logger to the loop, or ${RUN_WITH_LOGGING}`,
};

/** How each tool warms the learning rate up. */
const WARMUP_SETTING: Partial<Record<Writer, string>> = {
  'hf-trainer': ' (warmup_steps or warmup_ratio in TrainingArguments)',
  megatron: ' (--lr-warmup-iters)',
  deepspeed: ' (the WarmupLR scheduler\'s warmup_num_steps in the DeepSpeed config)',
  fairseq: ' (--warmup-updates, with --lr-scheduler inverse_sqrt or polynomial_decay)',
  mmengine: " (a LinearLR with by_epoch=False first in param_scheduler, e.g. dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500))",
  torchtitan: ' (warmup_steps under [lr_scheduler], --lr_scheduler.warmup_steps)',
  nanogpt: ' (warmup_iters in the config)',
  keras: ' (a keras.optimizers.schedules.LearningRateSchedule that ramps up)',
  optax: ' (optax.warmup_cosine_decay_schedule)',
};

/**
 * The advice GradLens gives, one function per action, so the same fix reads
 * the same wherever it is suggested, in the terms of the tool that wrote the log.
 */
export const hints = {
  addNormClipping(voice: Voice): Hint {
    const recommended = voice.advice.recommended;
    if (recommended === null) {
      return {
        id: 'add-norm-clipping',
        text:
          `Clip the gradient norm: ${clipLine(voice.writer, '1.0')}. No stretch of this run is stable enough to take a threshold from (its norms explode or are not finite almost throughout), ` +
          'so start from 1.0, the usual value, fix what makes the norm grow, then set the threshold from the norms of a healthy run.',
      };
    }
    return { id: 'add-norm-clipping', text: `${capitalise(clipLine(voice.writer, formatNumber(recommended)))}${basisText(voice)}.` };
  },
  /**
   * The clipping advice that fits what is on: add it when it is off, norm
   * rather than value clipping, a lower threshold when the one in force sits
   * far above the stable stretch; nothing when clipping is on at a sound threshold.
   */
  clipping(voice: Voice): Hint[] {
    const { clipping, advice } = voice;
    if (!clipping.on) return [hints.addNormClipping(voice)];
    if (clipping.mode === 'value') return [hints.preferNormClipping(voice)];
    if (clipping.threshold !== undefined && advice.recommended !== null && advice.recommended < clipping.threshold / 2) return [hints.lowerClipThreshold(voice, clipping.threshold)];
    return [];
  },
  preferNormClipping(voice: Voice): Hint {
    const tau = voice.advice.recommended !== null ? formatNumber(voice.advice.recommended) : '1.0';
    return { id: 'prefer-norm-clipping', text: `Prefer norm clipping to value clipping: it shortens the gradient without turning its direction. To switch, ${clipLine(voice.writer, tau)}.` };
  },
  raiseClipThreshold(voice: Voice, current: number | undefined): Hint {
    const recommended = voice.advice.recommended;
    return {
      id: 'raise-clip-threshold',
      text:
        `Clipping every step makes each update lr × max_norm long, whatever the gradient: normalised gradient descent. If that is not what you meant, raise ${clipSetting(voice.writer)}${current !== undefined ? ` from ${formatNumber(current)}` : ''}` +
        `${recommended !== null ? ` towards ${formatNumber(recommended)}${basisText(voice)}` : ''} and watch whether the norm then starts to grow; if it does, keep the low threshold and lower the learning rate instead.`,
    };
  },
  lowerClipThreshold(voice: Voice, current: number): Hint {
    const recommended = voice.advice.recommended;
    return {
      id: 'lower-clip-threshold',
      text: `Lower ${clipSetting(voice.writer)} from ${formatNumber(current)}${recommended !== null ? ` to about ${formatNumber(recommended)}${basisText(voice)}` : ''}: at this level clipping does not catch the large steps.`,
    };
  },
  orthogonalInit(): Hint {
    return {
      id: 'orthogonal-init',
      text: 'Initialise the recurrent weights (weight_hh) orthogonally, the input weights with Xavier and the biases with zeros, so that repeated multiplication by W_hh neither grows nor shrinks the gradient at the start.',
    };
  },
  spectralNorm(): Hint {
    return { id: 'spectral-norm', text: "Bound the recurrent weight's spectral norm (torch.nn.utils.parametrizations.spectral_norm on weight_hh) if it keeps growing during training." };
  },
  truncatedBptt(): Hint {
    return { id: 'truncated-bptt', text: 'Shorten backpropagation through time: detach() the hidden state between chunks of the sequence (truncated BPTT), so the gradient is a product of fewer Jacobians.' };
  },
  lowerLr(voice: Pick<Context, 'writer'>, lr: number | undefined): Hint {
    const now = lr !== undefined && Number.isFinite(lr) ? ` (now ${formatNumber(lr)})` : '';
    return { id: 'lower-lr', text: `Lower ${LR_SETTING[voice.writer] ?? 'the learning rate'}${now}; try 3–10× smaller.` };
  },
  /** Warm-up when there is none; a longer one when the run already warms up and still blows up early. */
  lrWarmup(voice: Pick<Context, 'writer' | 'warmup'>): Hint {
    if (voice.warmup) {
      const over = voice.warmup.steps > 0 ? ` over ${voice.warmup.steps} steps` : '';
      const known = voice.warmup.source === 'config' ? 'as the configuration says' : 'as the logged learning rate shows';
      return { id: 'lr-warmup', text: `The learning rate is already warmed up${over} (${known}): lengthen the warm-up 2–4× or lower the peak learning rate.` };
    }
    return {
      id: 'lr-warmup',
      text: `Warm the learning rate up over the first few hundred steps${WARMUP_SETTING[voice.writer] ?? ''}: early steps, with large and badly conditioned gradients, are where runs blow up.`,
    };
  },
  gatedCells(): Hint {
    return { id: 'gated-cells', text: 'Use gated cells (nn.LSTM or nn.GRU) instead of a vanilla RNN: their additive cell path lets the gradient reach early time steps.' };
  },
  residualConnections(): Hint {
    return { id: 'residual-connections', text: 'Add residual connections (and normalisation) between layers, so the gradient has a short path to the first layers.' };
  },
  /** Only a hand-written fp16 loop unscales itself: the Trainer, Lightning and Megatron do it for you, and bf16 has no scaler. */
  unscaleBeforeClipping(voice: Pick<Context, 'writer' | 'precision'>): Hint[] {
    if (voice.writer !== 'pytorch' || !voice.precision.scaler) return [];
    return [{ id: 'unscale-before-clipping', text: 'Under AMP, call scaler.unscale_(optimizer) before clipping or logging norms; otherwise they are multiplied by the loss scale.' }];
  },
  lossScaler(): Hint {
    return {
      id: 'loss-scaler',
      text: 'Occasional overflow skips are the fp16 loss scaler working as designed. If they persist, train in bf16, or lower the initial loss scale and look for the operation that overflows.',
    };
  },
  checkData(step: number): Hint {
    return { id: 'check-data', text: `Look at the batch of step ${step}: an outlier or corrupt sample often causes an isolated spike.` };
  },
  logGradients(voice: Pick<Context, 'writer'>): Hint {
    return { id: 'log-gradients', text: `Log per-parameter gradient norms to see which layer it comes from: ${LOG_GRADIENTS[voice.writer]}.` };
  },
};
