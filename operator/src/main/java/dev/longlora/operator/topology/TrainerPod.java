package dev.longlora.operator.topology;

import dev.longlora.contract.JobConfig;
import dev.longlora.contract.PodPaths;
import dev.longlora.contract.TrainerEnv;
import dev.longlora.operator.api.LongLoRAJobSpec;
import dev.longlora.operator.api.PodTemplateOverlay;
import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.CapabilitiesBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One trainer pod of the gang: rank wiring env (contract section 3), config and checkpoint mounts, memory-backed
 * /dev/shm, GPUs, and the job's pod template overlay merged in (the operator's own wiring wins on a clash).
 */
final class TrainerPod {
    static final String CONTAINER = PodPaths.TRAINER_CONTAINER;
    static final String GPU_RESOURCE = "nvidia.com/gpu";
    static final String CONFIG_VOLUME = "config";
    static final String CHECKPOINT_VOLUME = "checkpoints";
    static final String SHM_VOLUME = "dshm";
    /** Writable scratch (JVM, JCuda's and DJL's extracted natives) under a read-only root filesystem. */
    static final String TMP_VOLUME = "tmp";

    static final String DEFAULT_SHM = "16Gi";
    /** Non-root identity of the restricted Pod Security profile; fsGroup makes the checkpoint volume writable. */
    static final long TRAINER_UID = 1000L;

    private final JobTopology topology;
    private final TopologySettings settings;
    private final LongLoRAJobSpec spec;
    private final PodTemplateOverlay overlay;

    TrainerPod(JobTopology topology, TopologySettings settings) {
        this.topology = topology;
        this.settings = settings;
        this.spec = topology.job().getSpec();
        this.overlay = spec.podTemplate() != null
                ? spec.podTemplate()
                : new PodTemplateOverlay(null, null, null, null, null, null, null, null, null, null, null);
    }

    Pod build(int nodeIndex, int restartGeneration, java.util.List<dev.longlora.operator.api.AvoidedNode> avoided) {
        String job = topology.name();
        String podName = Names.pod(job, nodeIndex);
        ObjectMeta meta = topology.meta(podName, true);
        Map<String, String> labels = new LinkedHashMap<>();
        if (overlay.labels() != null) {
            labels.putAll(overlay.labels());
        }
        labels.putAll(JobLabels.forPod(job, nodeIndex, restartGeneration));
        meta.setLabels(labels);
        if (overlay.annotations() != null && !overlay.annotations().isEmpty()) {
            meta.setAnnotations(new LinkedHashMap<>(overlay.annotations()));
        }
        return new PodBuilder()
                .withMetadata(meta)
                .withNewSpec()
                .withHostname(podName)
                .withSubdomain(Names.service(job))
                .withRestartPolicy("Never")
                // SIGTERM asks the trainer to finish its step and save (exit 11); this is how long it may take.
                .withTerminationGracePeriodSeconds(JobResolver.terminationGracePeriodSeconds(spec))
                .withServiceAccountName(Names.trainerIdentity(job))
                .withNodeSelector(spec.nodeSelector())
                .withTolerations(spec.tolerations())
                .withAffinity(NodeAvoidance.merge(spec.affinity(), avoided))
                .withHostNetwork(overlay.usesHostNetwork() ? true : null)
                // On the host's network the pod still needs cluster DNS for MASTER_ADDR (the job's service).
                .withDnsPolicy(overlay.usesHostNetwork() ? "ClusterFirstWithHostNet" : null)
                .withPriorityClassName(spec.priorityClassName())
                .withSchedulerName(spec.schedulerName())
                .withImagePullSecrets(nullIfEmpty(overlay.imagePullSecrets()))
                .withSecurityContext(podSecurityContext())
                .withContainers(container(nodeIndex, podName, restartGeneration))
                .withVolumes(volumes())
                .endSpec()
                .build();
    }

    private Container container(int nodeIndex, String podName, int restartGeneration) {
        return new ContainerBuilder()
                .withName(CONTAINER)
                .withImage(image())
                .withImagePullPolicy(
                        spec.imagePullPolicy() != null ? spec.imagePullPolicy().name() : settings.defaultPullPolicy())
                // The image's entrypoint is the longlora launcher (contract section 2).
                .withArgs(PodPaths.trainerArgs())
                .withEnv(env(nodeIndex, podName, restartGeneration))
                .withEnvFrom(nullIfEmpty(overlay.envFrom()))
                .addNewPort()
                .withName("rendezvous")
                .withContainerPort(topology.masterPort())
                // With host networking the port is the node's: declaring it lets the scheduler keep two such pods
                // (say, two jobs' rank 0) off one node instead of failing the second one's bind.
                .withHostPort(overlay.usesHostNetwork() ? topology.masterPort() : null)
                .withProtocol("TCP")
                .endPort()
                .withResources(resources())
                .withVolumeMounts(volumeMounts())
                .withSecurityContext(containerSecurityContext())
                // rank 0's results report (contract section 8), kept by the kubelet in the terminated state
                .withTerminationMessagePath(PodPaths.TERMINATION_MESSAGE_PATH)
                .withTerminationMessagePolicy("File")
                .build();
    }

    /** spec.image, else the configured image for the job's backend: CPU for gpusPerNode 0, CUDA otherwise. */
    String image() {
        if (spec.image() != null && !spec.image().isBlank()) {
            return spec.image();
        }
        return settings.imageFor(topology.config().distributed().gpusPerNode());
    }

    /** Contract section 3; overlay entries come after and never override these names. */
    List<EnvVar> env(int nodeIndex, String podName, int restartGeneration) {
        JobConfig.Distributed d = topology.config().distributed();
        String job = topology.name();
        String ns = topology.namespace();
        List<EnvVar> env = new ArrayList<>(List.of(
                env(TrainerEnv.NNODES, d.nodes()),
                env(TrainerEnv.NODE_RANK, nodeIndex),
                env(TrainerEnv.GPUS_PER_NODE, d.gpusPerNode()),
                env(TrainerEnv.WORLD_SIZE, topology.config().worldSize()),
                env(TrainerEnv.MASTER_ADDR, Names.podDns(job, ns, 0)),
                env(TrainerEnv.MASTER_PORT, topology.masterPort()),
                env(TrainerEnv.ZERO_STAGE, d.zeroStage()),
                env(TrainerEnv.CHECKPOINT_DIR, PodPaths.CHECKPOINT_MOUNT),
                env(TrainerEnv.RESUME_FROM, TrainerEnv.RESUME_LATEST),
                env(TrainerEnv.JOB_NAME, job),
                env(TrainerEnv.NAMESPACE, ns),
                env(TrainerEnv.POD_NAME, podName),
                env(TrainerEnv.RESTART, restartGeneration),
                env(TrainerEnv.RESULTS_FILE, PodPaths.TERMINATION_MESSAGE_PATH)));
        if (overlay.env() != null) {
            overlay.env().stream()
                    .filter(e -> !TrainerEnv.RESERVED.contains(e.getName()))
                    .forEach(env::add);
        }
        return env;
    }

    private static EnvVar env(String name, Object value) {
        return new EnvVar(name, String.valueOf(value), null);
    }

    /** spec.resources, plus the GPUs (none for a CPU-only job) and the overlay's extra devices. */
    ResourceRequirements resources() {
        Map<String, Quantity> requests = new LinkedHashMap<>();
        Map<String, Quantity> limits = new LinkedHashMap<>();
        if (spec.resources() != null) {
            if (spec.resources().getRequests() != null) {
                requests.putAll(spec.resources().getRequests());
            }
            if (spec.resources().getLimits() != null) {
                limits.putAll(spec.resources().getLimits());
            }
        }
        int gpus = topology.config().distributed().gpusPerNode();
        if (gpus > 0) {
            // Extended resources may not be overcommitted: request and limit are equal.
            requests.put(GPU_RESOURCE, new Quantity(Integer.toString(gpus)));
            limits.put(GPU_RESOURCE, new Quantity(Integer.toString(gpus)));
        } else {
            requests.remove(GPU_RESOURCE);
            limits.remove(GPU_RESOURCE);
        }
        if (overlay.extraResources() != null) {
            requests.putAll(overlay.extraResources());
            limits.putAll(overlay.extraResources());
        }
        ResourceRequirements r = new ResourceRequirements();
        r.setRequests(requests.isEmpty() ? null : requests);
        r.setLimits(limits.isEmpty() ? null : limits);
        return r;
    }

    List<VolumeMount> volumeMounts() {
        List<VolumeMount> mounts = new ArrayList<>(List.of(
                new VolumeMountBuilder()
                        .withName(CONFIG_VOLUME)
                        .withMountPath(PodPaths.CONFIG_MOUNT)
                        .withReadOnly(true)
                        .build(),
                new VolumeMountBuilder()
                        .withName(CHECKPOINT_VOLUME)
                        .withMountPath(PodPaths.CHECKPOINT_MOUNT)
                        .build(),
                new VolumeMountBuilder()
                        .withName(SHM_VOLUME)
                        .withMountPath("/dev/shm")
                        .build(),
                new VolumeMountBuilder()
                        .withName(TMP_VOLUME)
                        .withMountPath("/tmp")
                        .build()));
        Set<String> paths = new HashSet<>();
        Set<String> names = new HashSet<>();
        mounts.forEach(m -> {
            paths.add(m.getMountPath());
            names.add(m.getName());
        });
        if (overlay.volumeMounts() != null) {
            overlay.volumeMounts().stream()
                    .filter(m -> !paths.contains(m.getMountPath()) && !names.contains(m.getName()))
                    .forEach(mounts::add);
        }
        return mounts;
    }

    List<Volume> volumes() {
        String shm = overlay.shmSize() != null ? overlay.shmSize().toString() : DEFAULT_SHM;
        List<Volume> volumes = new ArrayList<>(List.of(
                new VolumeBuilder()
                        .withName(CONFIG_VOLUME)
                        .withNewConfigMap()
                        .withName(Names.configMap(topology.name()))
                        .endConfigMap()
                        .build(),
                new VolumeBuilder()
                        .withName(CHECKPOINT_VOLUME)
                        .withNewPersistentVolumeClaim()
                        .withClaimName(topology.claimName())
                        .endPersistentVolumeClaim()
                        .build(),
                new VolumeBuilder()
                        .withName(SHM_VOLUME)
                        .withNewEmptyDir()
                        .withMedium("Memory")
                        .withSizeLimit(new Quantity(shm))
                        .endEmptyDir()
                        .build(),
                new VolumeBuilder()
                        .withName(TMP_VOLUME)
                        .withNewEmptyDir()
                        .endEmptyDir()
                        .build()));
        Set<String> names = new HashSet<>(List.of(CONFIG_VOLUME, CHECKPOINT_VOLUME, SHM_VOLUME, TMP_VOLUME));
        if (overlay.volumes() != null) {
            overlay.volumes().stream().filter(v -> !names.contains(v.getName())).forEach(volumes::add);
        }
        return volumes;
    }

    /** Restricted Pod Security profile unless the overlay brings its own. */
    PodSecurityContext podSecurityContext() {
        if (overlay.securityContext() != null) {
            return overlay.securityContext();
        }
        return new PodSecurityContextBuilder()
                .withRunAsNonRoot(true)
                .withRunAsUser(TRAINER_UID)
                .withRunAsGroup(TRAINER_UID)
                .withFsGroup(TRAINER_UID)
                .withNewSeccompProfile()
                .withType("RuntimeDefault")
                .endSeccompProfile()
                .build();
    }

    /**
     * Restricted Pod Security profile, and a read-only root filesystem (the trainer writes only under /tmp, /dev/shm
     * and /checkpoints), unless the overlay brings its own.
     */
    SecurityContext containerSecurityContext() {
        if (overlay.containerSecurityContext() != null) {
            return overlay.containerSecurityContext();
        }
        Capabilities dropAll = new CapabilitiesBuilder().withDrop("ALL").build();
        return new SecurityContextBuilder()
                .withAllowPrivilegeEscalation(false)
                .withCapabilities(dropAll)
                .withRunAsNonRoot(true)
                .withReadOnlyRootFilesystem(true)
                .withNewSeccompProfile()
                .withType("RuntimeDefault")
                .endSeccompProfile()
                .build();
    }

    private static <T> List<T> nullIfEmpty(List<T> list) {
        return list == null || list.isEmpty() ? null : list;
    }
}
