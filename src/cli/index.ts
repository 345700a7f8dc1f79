// The `socle` command. Each command is one module exporting a Command; `socle --help` lists them.
import { startCommand } from './start.ts';
import { insCommand } from './ins.ts';
import { pkiCommand } from '../pki/cli.ts';
import { reindexCommand } from './reindex.ts';
import { terminologyCommand } from './terminology.ts';
import { authCommands } from './auth.ts';
import { sasCommand } from '../services/sas/cli.ts';
import { annuaireCommand, importCommand } from '../referentiels/annuaire/cli.ts';

export interface Command {
  name: string;
  summary: string;
  usage?: string;
  run(args: string[]): Promise<number>;
}

const commands: Command[] = [startCommand, reindexCommand, insCommand, pkiCommand, terminologyCommand, ...authCommands, sasCommand, importCommand, annuaireCommand];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: socle <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `socle <command> --help` for the options of one command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 1;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`socle: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`${command.usage ?? `socle ${command.name}`}\n\n${command.summary}`);
    return 0;
  }
  try {
    return await command.run(args);
  } catch (err) {
    console.error(`socle ${name}: ${(err as Error).message}`);
    return 1;
  }
}
