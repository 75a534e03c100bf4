export { type GoBinary, parseGoBinary, parseImage } from "./_binary.js";
export {
	type BuildInfo,
	type BuildSetting,
	formatBuildInfo,
	type Module,
	parseModinfo,
} from "./_buildinfo.js";
export type { FileSource } from "./_bytes.js";
export { type DwarfStruct, readDwarfStructs } from "./_dwarf.js";
export { BinaryError, type BinaryErrorCode, type BinaryFormat } from "./_error.js";
export { hasNonLeafFix, parseGoVersion } from "./_go-version.js";
export type { Arch, Image, Section, Segment } from "./_image.js";
export { printedFuncName, type SourceFrame } from "./_inline.js";
export {
	type AnnotatedFunction,
	annotateFunction,
	findFunctionByName,
	findFunctionsByLine,
	functionsAt,
	functionsByPrintedName,
	type LineMatch,
	loadBias,
	runValue,
	type Symbolized,
	symbolizePC,
} from "./_lookup.js";
export type { TextSection } from "./_moduledata.js";
export {
	type FuncRecord,
	type Pclntab,
	type PclntabVersion,
	type PcRun,
	readPclntabBytes,
} from "./_pclntab.js";
export { type ScanReport, scanGoBinary, type Verdict } from "./_report.js";
export {
	type FixedEpilogue,
	formatPC,
	type SplitSP,
	type SplitSPScan,
	scanSplitSP,
} from "./_split-sp.js";
