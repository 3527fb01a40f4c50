package dev.longlora.operator.topology;

import dev.longlora.contract.ApiNames;
import dev.longlora.contract.JobConfig;
import dev.longlora.contract.JobConfigJson;
import dev.longlora.contract.Labels;
import dev.longlora.contract.PodPaths;
import dev.longlora.operator.api.AvoidedNode;
import dev.longlora.operator.api.CheckpointSpec;
import dev.longlora.operator.api.LongLoRAJob;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * A job turned into the Kubernetes objects it needs, with no client involved (the Strimzi model-class idea):
 * checkpoint claim, headless Service, config, least-privilege identity and the gang of pods.
 */
public final class JobTopology {
    private final LongLoRAJob job;
    private final TopologySettings settings;
    private final JobConfig config;

    public JobTopology(LongLoRAJob job, TopologySettings settings) {
        this.job = job;
        this.settings = settings;
        this.config = JobResolver.resolve(job);
    }

    public LongLoRAJob job() {
        return job;
    }

    public JobConfig config() {
        return config;
    }

    String name() {
        return job.getMetadata().getName();
    }

    String namespace() {
        return job.getMetadata().getNamespace();
    }

    /** Everything but the pods, in the order to apply them (identity before the pods that use it). */
    public List<HasMetadata> supportingObjects() {
        List<HasMetadata> objects = new ArrayList<>();
        checkpointClaim().ifPresent(objects::add);
        objects.add(service());
        objects.add(configMap());
        objects.add(serviceAccount());
        objects.add(role());
        objects.add(roleBinding());
        return objects;
    }

    public List<String> podNames() {
        return IntStream.range(0, config.distributed().nodes())
                .mapToObj(i -> Names.pod(name(), i))
                .toList();
    }

    /** The claim mounted at /checkpoints: the user's, or the one the operator creates. */
    public String claimName() {
        CheckpointSpec c = JobResolver.checkpoint(job.getSpec());
        return c.claimName() != null ? c.claimName() : Names.checkpointClaim(name());
    }

    /**
     * The claim the operator creates, or empty when spec.checkpoint.claimName names an existing one. Owned by the job
     * only with deleteWithJob, so outputs outlive the job by default.
     */
    public Optional<PersistentVolumeClaim> checkpointClaim() {
        CheckpointSpec c = JobResolver.checkpoint(job.getSpec());
        if (c.claimName() != null) {
            return Optional.empty();
        }
        ObjectMeta meta = meta(Names.checkpointClaim(name()), Boolean.TRUE.equals(c.deleteWithJob()));
        return Optional.of(new PersistentVolumeClaimBuilder()
                .withMetadata(meta)
                .withNewSpec()
                .withAccessModes(c.storage().accessMode().name())
                .withStorageClassName(c.storage().storageClassName())
                .withNewResources()
                .withRequests(Map.of("storage", new Quantity(c.storage().size())))
                .endResources()
                .endSpec()
                .build());
    }

    /** Headless, publishing not-ready pods so ranks resolve each other's DNS names before they are ready. */
    public Service service() {
        return new ServiceBuilder()
                .withMetadata(meta(Names.service(name()), true))
                .withNewSpec()
                .withClusterIP("None")
                .withPublishNotReadyAddresses(true)
                .withSelector(Map.of(Labels.JOB, name()))
                .addNewPort()
                .withName("rendezvous")
                .withPort(masterPort())
                .withProtocol("TCP")
                .endPort()
                .endSpec()
                .build();
    }

    int masterPort() {
        return JobResolver.distributed(job.getSpec()).masterPort();
    }

    public ConfigMap configMap() {
        return new ConfigMapBuilder()
                .withMetadata(meta(Names.configMap(name()), true))
                .withData(Map.of(PodPaths.CONFIG_FILE, JobConfigJson.write(config)))
                .build();
    }

    public ServiceAccount serviceAccount() {
        return new ServiceAccountBuilder()
                .withMetadata(meta(Names.trainerIdentity(name()), true))
                .build();
    }

    /** Rank 0 patches its progress annotation on its own pod: get/patch on this job's pods by name, nothing else. */
    public Role role() {
        return new RoleBuilder()
                .withMetadata(meta(Names.trainerIdentity(name()), true))
                .addNewRule()
                .withApiGroups("")
                .withResources("pods")
                .withResourceNames(podNames())
                .withVerbs("get", "patch")
                .endRule()
                .build();
    }

    public RoleBinding roleBinding() {
        return new RoleBindingBuilder()
                .withMetadata(meta(Names.trainerIdentity(name()), true))
                .withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io")
                .withKind("Role")
                .withName(Names.trainerIdentity(name()))
                .endRoleRef()
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName(Names.trainerIdentity(name()))
                .withNamespace(namespace())
                .endSubject()
                .build();
    }

    /** The whole gang for one restart generation. */
    public List<Pod> pods(int restartGeneration) {
        return IntStream.range(0, config.distributed().nodes())
                .mapToObj(i -> pod(i, restartGeneration))
                .toList();
    }

    public Pod pod(int nodeIndex, int restartGeneration) {
        return pod(nodeIndex, restartGeneration, List.of());
    }

    /** Worker {@code nodeIndex}, kept off {@code avoided} (the nodes this job's workers failed on). */
    public Pod pod(int nodeIndex, int restartGeneration, List<AvoidedNode> avoided) {
        return new TrainerPod(this, settings).build(nodeIndex, restartGeneration, avoided);
    }

    public OwnerReference ownerReference() {
        return new OwnerReferenceBuilder()
                .withApiVersion(ApiNames.API_VERSION)
                .withKind("LongLoRAJob")
                .withName(name())
                .withUid(job.getMetadata().getUid())
                .withController(true)
                .withBlockOwnerDeletion(true)
                .build();
    }

    ObjectMeta meta(String objectName, boolean owned) {
        ObjectMetaBuilder meta = new ObjectMetaBuilder()
                .withName(objectName)
                .withNamespace(namespace())
                .withLabels(JobLabels.forJob(name()));
        if (owned) {
            meta.withOwnerReferences(ownerReference());
        }
        return meta.build();
    }
}
