#!/usr/bin/env node
import { run } from "./main.js";

const code = await run(process.argv.slice(2), {
	stdin: process.stdin,
	stdout: process.stdout,
	stderr: process.stderr,
	env: process.env,
	cwd: process.cwd(),
});
process.exitCode = code;
