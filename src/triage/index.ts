/**
 * Grouping goroutines and crashes: which goroutines share a stack, and how alike they must be.
 * @module
 */
export {
	type Bucket,
	type BucketFrame,
	type BucketGoroutine,
	bucketGoroutines,
	firstGoroutineCrashed,
	GoroutineBuckets,
	SIMILARITIES,
	type Similarity,
} from "./_buckets.js";
