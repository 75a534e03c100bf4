import { type Frame, type Goroutine, isProgramFrame } from "../traceback/index.js";

/** The first frame of the program's own code in a goroutine (skipping runtime and standard library). */
export function programFrame(goroutine: Goroutine): Frame | undefined {
	return goroutine.frames.find(isProgramFrame);
}

/** `main.f (/app/main.go:12)` */
export function formatFrame(frame: Frame): string {
	if (frame.file === null) return frame.function;
	return `${frame.function} (${frame.file}:${frame.line ?? "?"})`;
}
