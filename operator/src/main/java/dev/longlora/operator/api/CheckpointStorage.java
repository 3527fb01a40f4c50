package dev.longlora.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;

/** The checkpoint claim the operator creates. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CheckpointStorage(
        @Default("100Gi")
        @Pattern("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$")
        @JsonPropertyDescription("Requested size, e.g. 500Gi.")
        String size,

        @JsonPropertyDescription("StorageClass; the cluster default when unset.")
        String storageClassName,

        @Default("ReadWriteOnce")
        @JsonPropertyDescription("ReadWriteOnce for one node; ReadWriteMany (required) for several nodes.")
        AccessMode accessMode) {

    /** Access modes a checkpoint claim may ask for. */
    public enum AccessMode {
        ReadWriteOnce,
        ReadWriteMany,
        ReadWriteOncePod
    }
}
