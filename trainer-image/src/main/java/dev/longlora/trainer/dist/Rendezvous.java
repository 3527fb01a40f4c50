package dev.longlora.trainer.dist;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Forms a {@link TcpRing} at MASTER_ADDR:MASTER_PORT. Rank 0 listens there; every other rank connects with retry and
 * backoff until the rendezvous timeout and presents its {@link GangIdentity}, its rank and the port of its ring
 * listener (an ephemeral port the OS picks). Rank 0 refuses a rank of another job, another gang generation or another
 * world size with a clear message, and once all ranks joined sends everyone the ring's addresses; each rank then
 * connects to its successor. Expiry and refusal are {@link LostPeerException}s (exit 10).
 */
public final class Rendezvous {
    private static final String MAGIC = "longlora-rendezvous/1";
    private static final String OK = "ok";
    private static final String REFUSED = "refused";

    /** Where to meet and how long to wait. */
    public record Settings(String masterAddr, int masterPort, Duration rendezvousTimeout, Duration collectiveTimeout) {}

    private record Member(String host, int ringPort) {}

    private Rendezvous() {}

    public static Collectives join(Settings settings, GangIdentity gang, int rank) {
        if (gang.worldSize() == 1) return new SingleRank();
        long deadline = System.nanoTime() + settings.rendezvousTimeout().toNanos();
        try (ServerSocket ringListener = new ServerSocket(0)) {
            List<Member> members = rank == 0
                    ? lead(settings, gang, ringListener.getLocalPort(), deadline)
                    : follow(settings, gang, rank, ringListener.getLocalPort(), deadline);
            return connectRing(settings, gang, rank, members, ringListener, deadline);
        } catch (IOException e) {
            throw new LostPeerException(
                    rank == 0 ? 1 : 0, "rendezvous", "I/O error at the rendezvous: " + e.getMessage(), e);
        }
    }

    private static List<Member> lead(Settings settings, GangIdentity gang, int ringPort, long deadline)
            throws IOException {
        Member[] members = new Member[gang.worldSize()];
        Socket[] sockets = new Socket[gang.worldSize()];
        members[0] = new Member(settings.masterAddr(), ringPort);
        int joined = 1;
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(settings.masterPort()));
            while (joined < gang.worldSize()) {
                server.setSoTimeout(millisLeft(deadline, missing(members), settings));
                Socket s;
                try {
                    s = server.accept();
                } catch (SocketTimeoutException e) {
                    throw expired(missing(members), settings);
                }
                s.setSoTimeout(5000);
                try {
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    DataOutputStream out = new DataOutputStream(s.getOutputStream());
                    if (!MAGIC.equals(in.readUTF())) {
                        s.close();
                        continue;
                    }
                    GangIdentity theirs = new GangIdentity(in.readUTF(), in.readLong(), in.readInt());
                    int theirRank = in.readInt();
                    int theirPort = in.readInt();
                    String refusal = gang.refusal(theirs);
                    if (refusal == null && (theirRank < 1 || theirRank >= gang.worldSize())) {
                        refusal = "rank " + theirRank + " is outside 1.." + (gang.worldSize() - 1);
                    }
                    if (refusal == null && members[theirRank] != null) {
                        refusal = "rank " + theirRank + " has already joined";
                    }
                    if (refusal != null) {
                        out.writeUTF(REFUSED);
                        out.writeUTF("rank 0 of " + gang.job() + " refused rank " + theirRank + ": " + refusal);
                        out.flush();
                        s.close();
                        continue;
                    }
                    members[theirRank] = new Member(s.getInetAddress().getHostAddress(), theirPort);
                    sockets[theirRank] = s;
                    joined++;
                } catch (IOException e) {
                    s.close(); // a half-open probe or a crashed joiner: wait for the next one
                }
            }
            List<Member> all = List.of(members);
            for (int r = 1; r < sockets.length; r++) {
                DataOutputStream out = new DataOutputStream(sockets[r].getOutputStream());
                out.writeUTF(OK);
                for (Member m : all) {
                    out.writeUTF(m.host());
                    out.writeInt(m.ringPort());
                }
                out.flush();
            }
            return all;
        } finally {
            for (Socket s : sockets) {
                if (s != null) s.close();
            }
        }
    }

    private static List<Member> follow(Settings settings, GangIdentity gang, int rank, int ringPort, long deadline)
            throws IOException {
        try (Socket s = connectWithRetry(settings.masterAddr(), settings.masterPort(), deadline, 0, settings)) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeUTF(MAGIC);
            out.writeUTF(gang.job());
            out.writeLong(gang.generation());
            out.writeInt(gang.worldSize());
            out.writeInt(rank);
            out.writeInt(ringPort);
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            // rank 0 answers once every rank has joined
            s.setSoTimeout(millisLeft(deadline, List.of(0), settings));
            String answer;
            try {
                answer = in.readUTF();
            } catch (SocketTimeoutException e) {
                throw new LostPeerException(
                        0,
                        "rendezvous",
                        "the gang did not complete within "
                                + settings.rendezvousTimeout().toSeconds()
                                + " s (distributed.rendezvousTimeoutSeconds)");
            }
            if (REFUSED.equals(answer)) {
                throw new LostPeerException(0, "rendezvous", in.readUTF());
            }
            List<Member> members = new ArrayList<>();
            for (int r = 0; r < gang.worldSize(); r++) {
                members.add(new Member(in.readUTF(), in.readInt()));
            }
            return members;
        }
    }

    private static Collectives connectRing(
            Settings settings, GangIdentity gang, int rank, List<Member> members, ServerSocket listener, long deadline)
            throws IOException {
        int world = gang.worldSize();
        int successor = (rank + 1) % world;
        int predecessor = (rank + world - 1) % world;
        Member next = members.get(successor);
        Socket toSuccessor = connectWithRetry(next.host(), next.ringPort(), deadline, successor, settings);
        DataOutputStream hello = new DataOutputStream(toSuccessor.getOutputStream());
        hello.writeLong(gang.generation());
        hello.writeInt(rank);
        hello.flush();
        while (true) {
            listener.setSoTimeout(millisLeft(deadline, List.of(predecessor), settings));
            Socket s;
            try {
                s = listener.accept();
            } catch (SocketTimeoutException e) {
                toSuccessor.close();
                throw expired(List.of(predecessor), settings);
            }
            s.setSoTimeout(5000);
            DataInputStream in = new DataInputStream(s.getInputStream());
            try {
                if (in.readLong() == gang.generation() && in.readInt() == predecessor) {
                    return new TcpRing(rank, world, toSuccessor, s, settings.collectiveTimeout());
                }
            } catch (IOException e) {
                // not our predecessor: keep waiting for it
            }
            s.close();
        }
    }

    private static Socket connectWithRetry(String host, int port, long deadline, int peer, Settings settings)
            throws IOException {
        long backoffMillis = 50;
        while (true) {
            Socket s = new Socket();
            try {
                InetAddress address = InetAddress.getByName(host);
                s.connect(new InetSocketAddress(address, port), millisLeft(deadline, List.of(peer), settings));
                return s;
            } catch (ConnectException | NoRouteToHostException | UnknownHostException | SocketTimeoutException e) {
                // rank 0's pod or DNS name may not be up yet
                s.close();
                if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMillis) > deadline) {
                    throw new LostPeerException(
                            peer,
                            "rendezvous",
                            "could not connect to " + host + ":" + port + " within "
                                    + settings.rendezvousTimeout().toSeconds()
                                    + " s (distributed.rendezvousTimeoutSeconds): " + e.getMessage());
                }
                sleep(backoffMillis);
                backoffMillis = Math.min(2000, backoffMillis * 2);
            }
        }
    }

    private static List<Integer> missing(Member[] members) {
        List<Integer> out = new ArrayList<>();
        for (int r = 0; r < members.length; r++) {
            if (members[r] == null) out.add(r);
        }
        return out;
    }

    private static int millisLeft(long deadline, List<Integer> waitingFor, Settings settings) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) throw expired(waitingFor, settings);
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    private static LostPeerException expired(List<Integer> waitingFor, Settings settings) {
        return new LostPeerException(
                waitingFor.getFirst(),
                "rendezvous",
                "ranks " + waitingFor + " did not join within "
                        + settings.rendezvousTimeout().toSeconds() + " s (distributed.rendezvousTimeoutSeconds)");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LostPeerException(0, "rendezvous", "interrupted while waiting for rank 0");
        }
    }
}
