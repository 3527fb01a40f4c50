package dev.longlora.operator.topology;

/**
 * What the operator's configuration adds to every job: the trainer images used when spec.image is unset (one for
 * CPU-only jobs, one for GPU jobs), and their pull policy.
 */
public record TopologySettings(String cpuImage, String cudaImage, String defaultPullPolicy) {
    public TopologySettings {
        if (cpuImage == null || cpuImage.isBlank()) {
            throw new IllegalArgumentException("longlora.trainer.image.cpu must name the CPU trainer image");
        }
        if (cudaImage == null || cudaImage.isBlank()) {
            throw new IllegalArgumentException("longlora.trainer.image.cuda must name the CUDA trainer image");
        }
    }

    /** One image for CPU and GPU jobs alike (tests, single-image installs). */
    public TopologySettings(String image, String defaultPullPolicy) {
        this(image, image, defaultPullPolicy);
    }

    /** The configured image for a job with this many GPUs per node: 0 runs the CPU image. */
    public String imageFor(int gpusPerNode) {
        return gpusPerNode > 0 ? cudaImage : cpuImage;
    }
}
