"""HOTA (with DetA, AssA, LocA), IDF1 and MOTA of :func:`ecoseg.metrics.evaluate`, computed by
TrackEval's own metric classes on per-frame mask-IoU similarity matrices."""

from __future__ import annotations

import numpy as np

__all__ = ["trackeval_scores"]


def trackeval_scores(n, T, P, o_frame, o_t, o_p, o_iou, threshold) -> dict[str, dict]:
    """HOTA, Identity and CLEAR from TrackEval's metric classes."""
    from trackeval.metrics import CLEAR, HOTA, Identity

    # TrackEval indexes arrays by id: compact the ids that occur to 0 .. k-1
    t_used, p_used = T.present_objects(), P.present_objects()
    t_lut = np.full(len(T.ids), -1)
    t_lut[t_used] = np.arange(len(t_used))
    p_lut = np.full(len(P.ids), -1)
    p_lut[p_used] = np.arange(len(p_used))
    tb, pb = T.frame_bounds(n), P.frame_bounds(n)
    ob = np.searchsorted(o_frame, np.arange(n + 1))
    gt_ids, tr_ids, sims = [], [], []
    for t in range(n):
        gi = T.index[tb[t] : tb[t + 1]]
        pi = P.index[pb[t] : pb[t + 1]]
        sim = np.zeros((len(gi), len(pi)))
        if ob[t + 1] > ob[t]:
            rows = np.searchsorted(gi, o_t[ob[t] : ob[t + 1]])
            cols = np.searchsorted(pi, o_p[ob[t] : ob[t + 1]])
            sim[rows, cols] = o_iou[ob[t] : ob[t + 1]]
        gt_ids.append(t_lut[gi].astype(int))
        tr_ids.append(p_lut[pi].astype(int))
        sims.append(sim)
    data = {
        "num_timesteps": n,
        "num_gt_ids": len(t_used),
        "num_tracker_ids": len(p_used),
        "num_gt_dets": len(T.keys),
        "num_tracker_dets": len(P.keys),
        "gt_ids": gt_ids,
        "tracker_ids": tr_ids,
        "similarity_scores": sims,
    }
    config = {"THRESHOLD": float(threshold), "PRINT_CONFIG": False}
    hota_m, id_m, clear_m = HOTA(), Identity(dict(config)), CLEAR(dict(config))
    # combine_sequences recomputes the final fields from the counts (also after the early
    # returns of eval_sequence when one side is empty)
    hota = hota_m.combine_sequences({"video": hota_m.eval_sequence(data)})
    ident = id_m.combine_sequences({"video": id_m.eval_sequence(data)})
    clear = clear_m.combine_sequences({"video": clear_m.eval_sequence(data)})
    return {
        "hota": {
            "hota": float(np.mean(hota["HOTA"])),
            "deta": float(np.mean(hota["DetA"])),
            "assa": float(np.mean(hota["AssA"])),
            "loca": float(np.mean(hota["LocA"])),
            "detre": float(np.mean(hota["DetRe"])),
            "detpr": float(np.mean(hota["DetPr"])),
            "assre": float(np.mean(hota["AssRe"])),
            "asspr": float(np.mean(hota["AssPr"])),
        },
        "identity": {
            "idf1": float(ident["IDF1"]),
            "idp": float(ident["IDP"]),
            "idr": float(ident["IDR"]),
            "idtp": int(ident["IDTP"]),
            "idfn": int(ident["IDFN"]),
            "idfp": int(ident["IDFP"]),
        },
        "clear": {
            "mota": float(clear["MOTA"]),
            "motp": float(clear["MOTP"]),
            "tp": int(clear["CLR_TP"]),
            "fn": int(clear["CLR_FN"]),
            "fp": int(clear["CLR_FP"]),
            "idsw": int(clear["IDSW"]),
            "mt": int(clear["MT"]),
            "pt": int(clear["PT"]),
            "ml": int(clear["ML"]),
            "frag": int(clear["Frag"]),
        },
    }
