package dev.longlora.trainer.merge;

import java.nio.file.Path;
import java.util.List;

/** What a merge wrote: the directory, its shard files, tensor count, bytes of weights, PI factor and context. */
public record MergeResult(
        Path out,
        List<String> shards,
        int tensors,
        long weightBytes,
        double ropeFactor,
        int maxPositionEmbeddings,
        List<String> copiedFiles) {}
