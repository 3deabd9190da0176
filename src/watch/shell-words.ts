/**
 * Splits a command line into words the way a POSIX shell would, without running a shell: single
 * quotes keep everything, double quotes keep everything but `\"`, `\\`, `\$`, `` \` `` and a
 * backslash-newline, a backslash outside quotes escapes the next character. What only a shell could
 * do (pipes, redirections, `;`, `&`, `$VAR`, `$(…)`, backquotes, globs) is refused with the fix,
 * since the words are run with execFile: put such a command in a script and pass the script.
 */
import { VigilError } from '../lib/errors.ts';

const OPERATORS = new Set(['|', '&', ';', '<', '>', '(', ')']);

export function shellWords(line: string, field = '--cscli'): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  const refuse = (what: string): never => {
    throw new VigilError(
      'E_USAGE',
      `${field} "${line}": ${what} needs a shell, and the command is run without one; put it in a script and pass the script's path`,
    );
  };
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new VigilError('E_USAGE', `${field} "${line}": unterminated single quote`);
      word += line.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        const c = line[j]!;
        if (c === '\\' && j + 1 < line.length && '"\\$`\n'.includes(line[j + 1]!)) {
          if (line[j + 1] !== '\n') word += line[j + 1];
          j++;
        } else if (c === '$' || c === '`') {
          refuse(`"${c}" (variable or command substitution)`);
        } else word += c;
      }
      if (j >= line.length) throw new VigilError('E_USAGE', `${field} "${line}": unterminated double quote`);
      i = j;
    } else if (ch === '\\') {
      if (i + 1 >= line.length) throw new VigilError('E_USAGE', `${field} "${line}": trailing backslash`);
      if (line[i + 1] !== '\n') word += line[i + 1];
      i++;
    } else if (OPERATORS.has(ch)) {
      refuse(`"${ch}"`);
    } else if (ch === '$' || ch === '`') {
      refuse(`"${ch}" (variable or command substitution)`);
    } else if (ch === '*' || ch === '?' || ch === '[') {
      refuse(`"${ch}" (a file-name pattern)`);
    } else if (ch === '~' && word === '') {
      refuse('"~" (home directory expansion)');
    } else {
      word += ch;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) throw new VigilError('E_USAGE', `${field} is empty: give the command that runs cscli, e.g. "docker exec crowdsec cscli"`);
  return words;
}
