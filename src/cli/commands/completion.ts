import type { Command } from 'commander';
import { UsageError } from '../exit-codes.js';

/** Every command path (`latchkey`, `latchkey integrations`, …; bash refuses empty keys) with the words that may follow it. */
function table(command: Command, path: string[] = ['latchkey'], out = new Map<string, string[]>()): Map<string, string[]> {
  const words = [...command.commands.map((c) => c.name()), ...command.options.flatMap((o) => [o.long, o.short].filter((f): f is string => !!f)), '--help'];
  out.set(path.join(' '), words);
  for (const sub of command.commands) table(sub, [...path, sub.name()], out);
  return out;
}

function bashScript(program: Command): string {
  const entries = [...table(program)].map(([path, words]) => `  [${JSON.stringify(path)}]=${JSON.stringify(words.join(' '))}`);
  return `# latchkey bash completion: eval "$(latchkey completion bash)"
_latchkey_complete() {
  declare -A _lk_words=(
${entries.join('\n')}
  )
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="latchkey" w i next
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    next="$path $w"
    [[ -n "\${_lk_words[$next]+x}" ]] && path="$next"
  done
  COMPREPLY=($(compgen -W "\${_lk_words[$path]}" -- "$cur"))
  [[ \${#COMPREPLY[@]} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))
  return 0
}
complete -F _latchkey_complete latchkey
`;
}

const zshScript = (program: Command): string => `#compdef latchkey
# latchkey zsh completion: eval "$(latchkey completion zsh)"
autoload -U +X bashcompinit && bashcompinit
${bashScript(program)}`;

export function addCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('Print a shell completion script: eval "$(latchkey completion bash)" in ~/.bashrc, or zsh in ~/.zshrc')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh') throw new UsageError(`unsupported shell "${shell}": use bash or zsh`);
      process.stdout.write(shell === 'bash' ? bashScript(program) : zshScript(program));
    });
}
